//! One measured case run: mall-load with a fixed shape (a warm-up run first, unrecorded,
//! before a case's first round), the counters read before and after, and the run's record
//! (`record`, pure): wrk's numbers, requests/s, and what each process spent per request.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};

use super::observe::Counters;
use super::Bench;
use crate::say;

/// A case run: its name, round, URL and the shape's inputs.
pub struct Case {
    pub name: String,
    pub round: u32,
    pub url: String,
    /// "get" or "checkout".
    pub shape: &'static str,
    pub path_file: Option<PathBuf>,
    pub auth_file: Option<PathBuf>,
    pub product_id: Option<u64>,
    /// Connections and threads (None: the options').
    pub conns: Option<(u32, u32)>,
}

impl Case {
    /// GETs of `url` (or of the paths in `paths` on its server), with `auths`' headers.
    pub fn get(
        name: &str,
        round: u32,
        url: &str,
        paths: Option<&Path>,
        auths: Option<&Path>,
    ) -> Self {
        Case {
            name: name.to_owned(),
            round,
            url: url.to_owned(),
            shape: "get",
            path_file: paths.map(Path::to_path_buf),
            auth_file: auths.map(Path::to_path_buf),
            product_id: None,
            conns: None,
        }
    }

    /// The same case with few connections and one thread, named `<name>-c<n>`.
    pub fn unloaded(mut self, n: u32) -> Self {
        self.name = format!("{}-c{n}", self.name);
        self.conns = Some((n, 1));
        self
    }
}

impl Bench {
    fn load_cmd(&self, c: &Case, conns: u32, threads: u32, secs: u32, out: &Path) -> Command {
        let mut cmd = Command::new(self.release_bin("mall-load"));
        cmd.args(["--shape", c.shape, "--url", &c.url, "--mode", "closed"])
            .args(["--connections", &conns.to_string()])
            .args(["--threads", &threads.to_string()])
            .args(["--duration", &secs.to_string(), "--warmup", "0"])
            .arg("--json")
            .arg(out);
        if let Some(p) = &c.path_file {
            cmd.arg("--path-file").arg(p);
        }
        if let Some(p) = &c.auth_file {
            cmd.arg("--auth-file").arg(p);
        }
        if let Some(id) = c.product_id {
            cmd.args(["--product-id", &id.to_string()]);
        }
        cmd
    }

    /// Runs the case once (after its warm-up in round 1) and appends its record to `runs`.
    pub fn run_case(&mut self, c: &Case, counters: &Counters) -> Result<()> {
        crate::signal::check()?;
        let (conns, threads) = c
            .conns
            .unwrap_or((self.args.connections, self.args.threads));
        if c.round == 1 && self.args.warmup > 0 {
            let out = self.tmp.join("warmup.json");
            let mut cmd = self.load_cmd(c, conns, threads, self.args.warmup, &out);
            cmd.stdout(std::process::Stdio::null());
            if !crate::shell::status_of(cmd).unwrap_or(false) {
                say::warn(&format!("warm-up of {} failed", c.name));
            }
        }
        say::log(&format!(
            "[round {}/{}] {}: {}s, {conns} connections, {threads} threads: {}",
            c.round, self.args.rounds, c.name, self.args.duration, c.url
        ));
        let out: PathBuf = self.tmp.join(format!("{}-{}.json", c.name, c.round));
        let mut cmd = self.load_cmd(c, conns, threads, self.args.duration, &out);
        cmd.args(self.proc_args(false)).args([
            "--proc-comm",
            "mysql_shared=mariadbd,mysqld",
            "--proc-comm",
            "redis_shared=redis-server",
        ]);
        let before = counters.read(&self.env);
        let ok = crate::shell::status_of(cmd)?;
        let after = counters.read(&self.env);
        crate::signal::check()?;
        if !ok || !out.is_file() {
            self.failed = true;
            bail!("mall-load failed for {} (its lines are above)", c.name);
        }
        let load: Value = serde_json::from_slice(&std::fs::read(&out)?)
            .with_context(|| format!("while reading {}", out.display()))?;
        let during = Counters::difference(&before, &after);
        let rec = record(&c.name, c.round, &load, during, &super::host::loadavg());
        say::log(&format!("           {}", run_line(&rec)));
        self.runs.push(rec);
        Ok(())
    }
}

fn num(v: &Value, path: &[&str]) -> f64 {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}

/// A run's record from mall-load's JSON: its numbers, requests/s, and `during`: CPU time
/// (ms) of each process ("load" is the generator; "other" the machine's busy time that is
/// none of them), the counters' differences and the CPU µs per request.
pub fn record(
    case: &str,
    round: u32,
    load: &Value,
    counters: Map<String, Value>,
    loadavg: &str,
) -> Value {
    let requests = num(load, &["requests"]);
    let duration_us = num(load, &["duration_us"]);
    let mut cpu = Map::new();
    let mut accounted = 0.0;
    if let Some(procs) = load.pointer("/usage/processes").and_then(Value::as_object) {
        for (label, p) in procs {
            let ms = num(p, &["cpu_seconds"]) * 1000.0;
            accounted += ms;
            let label = if label == "load generator" {
                "load"
            } else {
                label
            };
            cpu.insert(label.to_owned(), json!(ms.round()));
        }
    }
    let busy = num(load, &["usage", "machine_busy_seconds"]) * 1000.0;
    let total = num(load, &["usage", "machine_total_seconds"]) * 1000.0;
    cpu.insert("machine_busy".into(), json!(busy.round()));
    cpu.insert("machine_total".into(), json!(total.round()));
    cpu.insert("other".into(), json!((busy - accounted).max(0.0).round()));
    let per_request: Map<String, Value> = cpu
        .iter()
        .filter(|(k, _)| *k != "machine_total")
        .map(|(k, v)| {
            let us = if requests > 0.0 {
                v.as_f64().unwrap_or(0.0) * 1000.0 / requests
            } else {
                0.0
            };
            (k.clone(), json!(us))
        })
        .collect();
    json!({
        "case": case,
        "round": round,
        "url": load.get("url"),
        "connections": load.get("connections"),
        "threads": load.get("threads"),
        "loadavg_after": loadavg,
        "requests": requests,
        "duration_us": duration_us,
        "body_bytes": load.get("body_bytes"),
        "errors": load.get("errors"),
        "statuses": load.get("statuses"),
        "latency_us": load.get("latency_us"),
        "rps": if duration_us > 0.0 { requests / (duration_us / 1e6) } else { 0.0 },
        "during": {"cpu_ms": cpu, "counters": counters, "cpu_us_per_request": per_request},
    })
}

/// The progress line of a run.
pub fn run_line(r: &Value) -> String {
    let e = |k: &str| num(r, &["errors", k]);
    format!(
        "{} req/s, p50 {} ms, p99 {} ms, >=400: {}, socket errors: {}",
        num(r, &["rps"]).floor(),
        num(r, &["latency_us", "p50"]) / 1000.0,
        num(r, &["latency_us", "p99"]) / 1000.0,
        e("status"),
        e("connect") + e("io") + e("timeout")
    )
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
