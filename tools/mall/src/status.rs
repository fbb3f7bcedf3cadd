//! `status [part]`: per part the live slot (nginx's marker), its version, since when, by
//! whom, what a rollback would restore and what nginx actually serves; who holds the lock;
//! the last recorded actions.

use crate::bookkeeping::{audit, lock, state};
use crate::cli::Opts;
use crate::parts::{Part, PARTS};
use crate::Error;

pub fn run(opts: &Opts, part: Option<&str>) -> Result<(), Error> {
    let parts: Vec<Part> = match part {
        Some(name) => vec![Part::parse(name)?],
        None => PARTS.to_vec(),
    };
    let rt = crate::commands::runtime(opts)?;
    let dir = rt.state_dir();
    row([
        "PART",
        "LIVE",
        "VERSION",
        "SINCE",
        "BY",
        "ROLLBACK-TO",
        "NGINX SERVES",
    ]);
    for part in &parts {
        let record = state::load(dir, part.name)?;
        let live = rt.live_slot(part, &record).ok();
        let seen = rt.served_by_nginx(part).unwrap_or_default();
        let mut rollback = "-".to_owned();
        if let Some(live) = live {
            let idle = live.other();
            let version = record.slot(idle, "version");
            if !version.is_empty() {
                let running = if rt.slot_running(part, idle) {
                    "running"
                } else {
                    "stopped"
                };
                rollback = format!("{idle}@{version} ({running})");
            }
        }
        let live_name = live.map_or("?".to_owned(), |s| s.to_string());
        // Never switched, or the record is stale (the stack was restarted): only what
        // nginx shows. The next action records it.
        let current = record.get("live") == live_name;
        let (since, by) = if current {
            (record.get("since"), record.get("by"))
        } else {
            ("-", "-")
        };
        let mut version = match live {
            Some(slot) if current => record.slot(slot, "version").to_owned(),
            _ => String::new(),
        };
        if version.is_empty() {
            let prefix = format!("{}-{live_name}@", part.name);
            version = seen.strip_prefix(&prefix).unwrap_or("").to_owned();
        }
        let or_dash = |s: &str| {
            if s.is_empty() {
                "-".to_owned()
            } else {
                s.to_owned()
            }
        };
        let seen = if seen.is_empty() {
            "no answer".to_owned()
        } else {
            seen
        };
        row([
            part.name,
            &live_name,
            &or_dash(&version),
            &or_dash(since),
            &or_dash(by),
            &rollback,
            &seen,
        ]);
    }
    if let Some(holder) = lock::held_by(dir) {
        println!("\nin progress: {holder}");
    }
    println!("\nrecent actions ({}):", dir.join("audit.log").display());
    for line in audit::recent(dir, part, 10) {
        println!("{line}");
    }
    Ok(())
}

fn row(c: [&str; 7]) {
    println!(
        "{:<11} {:<6} {:<16} {:<21} {:<14} {:<24} {}",
        c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    );
}
