//! `mall bench mix`: the whole stack under the shopper mix, driven by mall-load's mix. The
//! shoppers sign in through nginx before the load, so the login rate limit is raised for
//! this private stack only. mall-load measures the CPU and RSS of every part itself (pids
//! named here; MariaDB and Redis by process name: the host's, shared).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::args::LoopMode;
use super::observe::{self, Counters};
use super::Bench;
use crate::cli::RuntimeKind;
use crate::say;

/// mall-load's arguments for the mix (pure: from the options and the stack).
pub fn load_args(b: &Bench, password: &str, json_out: &str, svg: &str) -> Vec<String> {
    let a = &b.args;
    let mode = match a.mode {
        LoopMode::Open => "open",
        LoopMode::Closed => "closed",
        LoopMode::Both => "both",
    };
    let mut v: Vec<String> = [
        "--url",
        &b.url,
        "--duration",
        &a.duration.to_string(),
        "--warmup",
        &a.warmup.to_string(),
        "--connections",
        &a.connections.to_string(),
        "--rate",
        &a.rate.to_string(),
        "--users",
        &a.users.to_string(),
        "--mode",
        mode,
        "--sweep-step",
        &a.sweep_step.to_string(),
        "--admin-email",
        b.env.own("MALL_ADMIN_EMAIL").unwrap_or("admin@mall.local"),
        "--admin-password-file",
        password,
        "--user-prefix",
        &format!("shopper-{}", crate::host::random_hex(3)),
        "--json",
        json_out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if a.runtime == RuntimeKind::Local {
        for g in ["mysql=mariadbd,mysqld", "redis=redis-server"] {
            v.extend(["--proc-comm".to_owned(), g.to_owned()]);
        }
    }
    if let Some(m) = &a.mix {
        v.extend(["--mix".to_owned(), m.clone()]);
    }
    if a.sweep {
        v.extend(["--sweep".to_owned(), "--svg".to_owned(), svg.to_owned()]);
    }
    v
}

pub fn run(b: &mut Bench) -> Result<()> {
    b.env.set("MALL_LOGIN_RATE", "100000r/s");
    b.env.set("MALL_LOGIN_BURST", "100000");
    // Every shopper signs up from this host (the user service limits registrations per address).
    b.env.set("REGISTER_MAX_PER_ADDRESS", "1000000");
    let local = b.args.runtime == RuntimeKind::Local;
    let (procs, password) = if local {
        b.stack_up(&["user", "product", "cart", "order", "payment", "gateway-sim"])?;
        (b.proc_args(true), b.var.join("secrets/admin-password"))
    } else {
        let password = b.compose_up()?;
        (b.compose_procs()?, password)
    };
    let runtime = if local { "local" } else { "compose" };
    let stamp = super::utc_stamp();
    let dir = b.root.join("var/bench");
    std::fs::create_dir_all(&dir)?;
    let out = dir.join(format!("mix-{runtime}-{stamp}.json"));
    let svg = dir.join(format!("mix-{runtime}-{stamp}.svg"));
    let load_json = b.tmp.join("load.json");
    let args = load_args(
        b,
        &password.display().to_string(),
        &load_json.display().to_string(),
        &svg.display().to_string(),
    );
    // Counted over the whole mall-load run (setup included): the catalog cache's entry and
    // stock tiers, and what MariaDB (shared, server-wide) executed.
    let mut counters = Counters::default();
    if local {
        let m = format!("http://127.0.0.1:{}/metrics", b.port_base + 2);
        counters.metric("catalog_hits", &m, "catalog_cache_hits_total");
        counters.metric("catalog_misses", &m, "catalog_cache_misses_total");
        counters.metric("stock_hits", &m, "catalog_stock_cache_hits_total");
        counters.metric("stock_misses", &m, "catalog_stock_cache_misses_total");
        counters.mysql_status = vec![
            "Questions",
            "Com_stmt_execute",
            "Com_commit",
            "Com_select",
            "Com_insert",
            "Com_update",
            "Com_delete",
            "Connections",
        ];
    }
    let before = counters.read(&b.env);
    say::log(&format!("mall-load {} {}", args.join(" "), procs.join(" ")));
    let mut cmd = std::process::Command::new(b.release_bin("mall-load"));
    cmd.args(&args).args(&procs);
    // mall-load's tables are the benchmark's output: on our stdout.
    let ok = cmd.status().context("while running mall-load")?.success();
    crate::signal::check()?;
    if !ok {
        b.failed = true;
        bail!("mall-load failed (its lines are above)");
    }
    let during = Counters::difference(&before, &counters.read(&b.env));
    say::log(&format!(
        "counters over the run: {}",
        Value::Object(during.clone())
    ));
    let load: Value = serde_json::from_slice(&std::fs::read(&load_json)?)
        .with_context(|| format!("while reading {}", load_json.display()))?;
    let command: Vec<String> = std::env::args()
        .skip_while(|a| a != "bench")
        .skip(1)
        .collect();
    let result = json!({
        "benchmark": "mix",
        "runtime": runtime,
        "command": format!("scripts/bench {}", command.join(" ")),
        "machine": observe::machine(&b.root, &b.load_start, &b.load_version()),
        "load": load,
        "counters": during,
        "nginx_status_tally": observe::status_tally(&b.var, None),
        "log_sizes": observe::log_sizes(&b.var),
    });
    std::fs::write(&out, serde_json::to_vec_pretty(&result)?)
        .with_context(|| format!("while writing {}", out.display()))?;
    say::log(&format!(
        "results written to {}",
        out.strip_prefix(&b.root).unwrap_or(&out).display()
    ));
    if b.args.sweep {
        say::log(&format!(
            "plot written to {}",
            svg.strip_prefix(&b.root).unwrap_or(&svg).display()
        ));
    }
    Ok(())
}
