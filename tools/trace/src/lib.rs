//! `mall-trace`: the engine behind `scripts/trace`. It reads the mall's JSON log lines
//! (files, directories of them, or stdin from `docker compose logs`), keeps the lines whose
//! `trace_id` is the one asked for, and prints them as one time-ordered timeline, or as the
//! raw lines (`--json`). Only lines containing the id are parsed, so the cost is one fast
//! pass over the bytes (docs/performance.md "Trace lookup").

pub mod entry;
pub mod scan;
pub mod timeline;
pub mod when;

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

use crate::entry::Entry;

/// Usage errors (a malformed id or time): exit 64, like every mall entry point.
pub const EXIT_USAGE: i32 = 64;
/// Nothing found.
pub const EXIT_NOT_FOUND: i32 = 1;
/// No source could be read.
pub const EXIT_IO: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "mall-trace",
    about = "Prints the timeline of one trace id from the mall's JSON logs",
    after_help = "Exit status: 0 found, 1 nothing found, 2 no source readable, 64 bad arguments.\n\
                  Most people want scripts/trace, which finds the logs (var/log or docker compose)."
)]
pub struct Args {
    /// The trace id: 32 lowercase hex characters (upper case is accepted and lowered; a
    /// W3C traceparent works too).
    pub trace_id: String,
    /// Log files or directories (their *.log and *.log.N files, one level down too);
    /// `-` or nothing: standard input.
    pub sources: Vec<PathBuf>,
    /// Print the matching lines as written (JSON), in time order, instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Only lines written at or after this: a duration back from now (90s, 15m, 2h, 1d)
    /// or a time (2026-11-21T14:05:00Z; without a zone, UTC). Files last written before
    /// it are not read at all.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only lines written at or before this (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Do not shorten long messages.
    #[arg(long)]
    pub wide: bool,
    /// Threads scanning files [default: the number of CPUs].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print what was searched and how long it took on stderr.
    #[arg(long)]
    pub stats: bool,
}

/// The id in canonical form, or why it is not one.
pub fn normalize_trace_id(s: &str) -> Result<String, String> {
    let s = s.trim();
    // A traceparent: version-traceid-parentid-flags.
    let candidate = match s.split('-').collect::<Vec<_>>().as_slice() {
        [_, id, _, _] if id.len() == 32 => *id,
        _ => s,
    };
    let id = candidate.to_ascii_lowercase();
    let hex = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex || id.bytes().all(|b| b == b'0') {
        return Err(format!(
            "{:?} is not a trace id: expected 32 hex characters, as in the X-Trace-Id \
             header or the trace_id of an error body (e.g. 4bf92f3577b34da6a3ce929d0e0e4736)",
            printable_arg(s)
        ));
    }
    Ok(id)
}

fn printable_arg(s: &str) -> String {
    let s: String = s.chars().take(80).collect();
    timeline::printable(&s)
}

/// Runs the command; returns the exit code.
pub fn run(args: Args) -> i32 {
    match try_run(args) {
        Ok(code) => code,
        Err(Failure::Usage(msg)) => {
            eprintln!("mall-trace: {msg}");
            EXIT_USAGE
        }
        Err(Failure::Io(msg)) => {
            eprintln!("mall-trace: {msg}");
            EXIT_IO
        }
    }
}

enum Failure {
    Usage(String),
    Io(String),
}

fn try_run(args: Args) -> Result<i32, Failure> {
    let started = Instant::now();
    let trace = normalize_trace_id(&args.trace_id).map_err(Failure::Usage)?;
    let now = now_us();
    let since = args
        .since
        .as_deref()
        .map(|s| when::parse(s, now))
        .transpose()
        .map_err(|e| Failure::Usage(format!("--since: {e}")))?;
    let until = args
        .until
        .as_deref()
        .map(|s| when::parse(s, now))
        .transpose()
        .map_err(|e| Failure::Usage(format!("--until: {e}")))?;
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2)
    });

    let (files, stdin, skipped) = expand_sources(&args.sources, since);
    let mut found = scan::scan_files(&files, trace.as_bytes(), threads);
    if stdin {
        let finder = memchr::memmem::Finder::new(trace.as_bytes());
        match scan::scan_reader(io::stdin().lock(), &finder, &mut found.lines) {
            Ok(n) => found.bytes += n,
            Err(e) => found.errors.push(format!("standard input: {e}")),
        }
    }
    for e in &found.errors {
        eprintln!("mall-trace: cannot read {e}");
    }
    let sources = files.len() + usize::from(stdin);
    if sources > 0 && found.errors.len() == sources {
        return Err(Failure::Io("no source could be read".into()));
    }

    let mut other = 0;
    let mut entries: Vec<Entry> = Vec::new();
    for raw in &found.lines {
        let text = String::from_utf8_lossy(raw);
        match Entry::parse(&text, &trace) {
            Some(e) if since.is_none_or(|s| e.ts_us >= s) && until.is_none_or(|u| e.ts_us <= u) => {
                entries.push(e)
            }
            Some(_) => {}
            None => other += 1,
        }
    }
    if args.stats {
        eprintln!(
            "mall-trace: searched {} in {} file(s){}{} in {:.3} s ({} threads): {} matching line(s)",
            human_bytes(found.bytes),
            files.len(),
            if stdin { " and standard input" } else { "" },
            if skipped > 0 {
                format!(" ({skipped} file(s) older than --since skipped)")
            } else {
                String::new()
            },
            started.elapsed().as_secs_f64(),
            threads,
            entries.len()
        );
    }
    if other > 0 {
        eprintln!(
            "mall-trace: {other} other line(s) mention the id without being its log lines \
             (not JSON, or the id elsewhere than trace_id); grep -F {trace} shows them"
        );
    }
    if entries.is_empty() {
        let window = match (&args.since, &args.until) {
            (Some(s), Some(u)) => format!(" between {s} and {u}"),
            (Some(s), None) => format!(" since {s}"),
            (None, Some(u)) => format!(" until {u}"),
            (None, None) => String::new(),
        };
        let skipped = if skipped > 0 {
            format!(", {skipped} file(s) last written before --since not read")
        } else {
            String::new()
        };
        eprintln!(
            "mall-trace: no log line carries trace id {trace}{window} ({} searched in {} \
             source(s){skipped})",
            human_bytes(found.bytes),
            sources
        );
        return Ok(EXIT_NOT_FOUND);
    }

    let mut stdout = io::stdout().lock();
    let written = if args.json {
        entries.sort_by_key(|e| e.ts_us);
        entries
            .iter()
            .try_for_each(|e| writeln!(stdout, "{}", e.raw))
    } else {
        timeline::sort_for_table(&mut entries);
        stdout.write_all(timeline::render(&trace, &entries, args.wide).as_bytes())
    };
    match written {
        // A closed pipe (| head) is not an error.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Failure::Io(format!("writing the output: {e}")))
        }
        _ => Ok(0),
    }
}

/// Files to read (directories expanded), whether stdin is one of the sources, and how many
/// files were skipped for being older than `since`.
fn expand_sources(sources: &[PathBuf], since: Option<i64>) -> (Vec<PathBuf>, bool, usize) {
    let mut files = Vec::new();
    let mut stdin = sources.is_empty();
    for s in sources {
        if s.as_os_str() == "-" {
            stdin = true;
        } else if s.is_dir() {
            collect_dir(s, 0, &mut files);
        } else {
            files.push(s.clone());
        }
    }
    let before = files.len();
    if let Some(since) = since {
        // Logs are appended to: a file last written before `since` holds nothing newer.
        files.retain(|f| modified_us(f).is_none_or(|m| m >= since));
    }
    let skipped = before - files.len();
    (files, stdin, skipped)
}

fn collect_dir(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        eprintln!("mall-trace: cannot list {}", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if depth < 1 {
                collect_dir(&p, depth + 1, out);
            }
            continue;
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".gz") {
            eprintln!(
                "mall-trace: skipping compressed {}: zcat it into `mall-trace <id> -`",
                p.display()
            );
        } else if is_log_name(name) {
            out.push(p);
        }
    }
}

/// `x.log` and rotated `x.log.1`, `x.log.2`, …
fn is_log_name(name: &str) -> bool {
    match name.rsplit_once(".log") {
        Some((stem, "")) => !stem.is_empty(),
        Some((stem, rest)) => {
            !stem.is_empty()
                && rest.len() > 1
                && rest.starts_with('.')
                && rest[1..].bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn modified_us(path: &Path) -> Option<i64> {
    let m = std::fs::metadata(path).ok()?.modified().ok()?;
    let d = m.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_micros()).ok()
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_micros()).ok())
        .unwrap_or(0)
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_are_normalised_or_refused() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(normalize_trace_id(id).as_deref(), Ok(id));
        assert_eq!(normalize_trace_id(&id.to_uppercase()).as_deref(), Ok(id));
        assert_eq!(normalize_trace_id(&format!(" {id}\n")).as_deref(), Ok(id));
        assert_eq!(
            normalize_trace_id(&format!("00-{id}-00f067aa0ba902b7-01")).as_deref(),
            Ok(id)
        );
        for bad in [
            "",
            "4bf9",
            &"0".repeat(32),
            &format!("{id}0"),
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
        ] {
            assert!(normalize_trace_id(bad).is_err(), "{bad:?}");
        }
        let msg = normalize_trace_id("bad\u{1b}[31m").expect_err("not an id");
        assert!(!msg.contains('\u{1b}'), "{msg}");
    }

    #[test]
    fn log_names() {
        for ok in ["user-blue.log", "access.log", "access.log.1", "x.log.12"] {
            assert!(is_log_name(ok), "{ok}");
        }
        for no in [
            ".log",
            "access.log.gz",
            "access.log.1.gz",
            "notes.txt",
            "x.logs",
            "x.log.",
        ] {
            assert!(!is_log_name(no), "{no}");
        }
    }
}
