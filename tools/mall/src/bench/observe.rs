//! What the bench reads besides the load: Prometheus counters of the parts and MariaDB's
//! server-wide status counters (before and after each run), nginx's statuses per URI, the
//! size and warnings of every log, and the machine the numbers were taken on.

use std::io::BufRead;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Map, Value};

use super::host::Env;

/// Counters read before and after a run: (label, metrics URL, metric) and MariaDB status
/// variables (stored as mysql_<name>).
#[derive(Default)]
pub struct Counters {
    pub metrics: Vec<(String, String, String)>,
    pub mysql_status: Vec<&'static str>,
}

impl Counters {
    pub fn metric(&mut self, label: &str, url: &str, metric: &str) {
        self.metrics
            .push((label.to_owned(), url.to_owned(), metric.to_owned()));
    }

    pub fn read(&self, env: &Env) -> Map<String, Value> {
        let mut out = Map::new();
        if !self.mysql_status.is_empty() {
            for (k, v) in mysql_status(env, &self.mysql_status) {
                out.insert(format!("mysql_{k}"), json!(v));
            }
        }
        for (label, url, metric) in &self.metrics {
            let text = super::http::request("GET", url, &[], None)
                .map(|a| a.body)
                .unwrap_or_default();
            out.insert(label.clone(), json!(metric_sum(&text, metric)));
        }
        out
    }

    /// after - before, per counter.
    pub fn difference(
        before: &Map<String, Value>,
        after: &Map<String, Value>,
    ) -> Map<String, Value> {
        after
            .iter()
            .map(|(k, v)| {
                let b = before.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                (
                    k.clone(),
                    super::summary::number(v.as_f64().unwrap_or(0.0) - b),
                )
            })
            .collect()
    }
}

/// The sum of a metric's samples (every label set) in Prometheus text; 0 when absent.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            let bare = key.split('{').next()?;
            (bare == name).then(|| value.trim().parse::<f64>().ok())?
        })
        .sum()
}

/// MariaDB's GLOBAL STATUS values of these names, as the admin login reads them.
fn mysql_status(env: &Env, names: &[&str]) -> Vec<(String, f64)> {
    let list: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let sql = format!(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
        list.join(",")
    );
    let Ok(text) = env.mysql().and_then(|m| m.run(&sql)) else {
        return vec![];
    };
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('\t')?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect()
}

/// One access-log line's method, URI (all-digit path segments folded to {id}) and status.
pub fn access_key(line: &str) -> Option<(String, String, u16)> {
    let field = |name: &str| {
        let start = line.find(&format!("\"{name}\":"))? + name.len() + 3;
        let rest = &line[start..];
        Some(if let Some(s) = rest.strip_prefix('"') {
            s[..s.find('"')?].to_owned()
        } else {
            rest[..rest.find([',', '}'])?].to_owned()
        })
    };
    let (method, uri, status) = (field("method")?, field("uri")?, field("status")?);
    let (path, query) = uri
        .split_once('?')
        .map_or((uri.as_str(), None), |(p, q)| (p, Some(q)));
    let folded: Vec<&str> = path
        .split('/')
        .map(|s| {
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                "{id}"
            } else {
                s
            }
        })
        .collect();
    let mut uri = folded.join("/");
    if let Some(q) = query {
        uri = format!("{uri}?{q}");
    }
    Some((method, uri, status.parse().ok()?))
}

/// nginx's statuses per method and URI over the whole run, most frequent first.
pub fn status_tally(var: &Path, only_uri: Option<&str>) -> Value {
    let mut counts: std::collections::BTreeMap<(String, String, u16), u64> = Default::default();
    if let Ok(f) = std::fs::File::open(var.join("log/nginx/access.log")) {
        for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
            if let Some(k) = access_key(&line) {
                if only_uri.is_none_or(|u| u == k.1) {
                    *counts.entry(k).or_default() += 1;
                }
            }
        }
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    Value::Array(
        rows.into_iter()
            .map(|((method, uri, status), count)| json!({"method": method, "uri": uri, "status": status, "count": count}))
            .collect(),
    )
}

/// What counts as a problem line in a log, by file.
pub fn problem(file: &str, line: &str) -> bool {
    if file.ends_with("nginx/error.log") {
        ["[warn]", "[error]", "[crit]", "[alert]", "[emerg]"]
            .iter()
            .any(|p| line.contains(p))
    } else if file.ends_with("nginx/access.log") {
        line.contains("\"status\":5")
    } else {
        line.contains("\"level\":\"WARN\"") || line.contains("\"level\":\"ERROR\"")
    }
}

/// Lines, bytes and problem lines (with the last three) of every log of the stack.
pub fn log_sizes(var: &Path) -> Value {
    let log = var.join("log");
    let mut files = Vec::new();
    for dir in [log.clone(), log.join("nginx")] {
        let mut here: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        here.retain(|p| p.extension().is_some_and(|e| e == "log"));
        here.sort();
        files.extend(here);
    }
    let mut out = Vec::new();
    for path in files {
        let name = path
            .strip_prefix(&log)
            .unwrap_or(&path)
            .display()
            .to_string();
        let (mut lines, mut problems, mut last) = (0u64, 0u64, Vec::<String>::new());
        if let Ok(f) = std::fs::File::open(&path) {
            for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
                lines += 1;
                if problem(&path.display().to_string(), &line) {
                    problems += 1;
                    last.push(line.chars().take(400).collect());
                    if last.len() > 3 {
                        last.remove(0);
                    }
                }
            }
        }
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        out.push(json!({"file": name, "lines": lines, "bytes": bytes,
                        "problem_lines": problems, "last_problems": last}));
    }
    Value::Array(out)
}

fn first_line_after(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// What the numbers were taken on.
pub fn machine(root: &Path, load_start: &str, load_version: &str) -> Value {
    let stdout = |cmd: &[&str]| {
        crate::shell::read(&crate::shell::argv(cmd))
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let nginx = Command::new("nginx")
        .arg("-v")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .trim()
                .replace("nginx version: ", "")
        })
        .unwrap_or_default();
    let root = root.display().to_string();
    let mem: u64 = first_line_after("/proc/meminfo", "MemTotal")
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    json!({
        "cpu": first_line_after("/proc/cpuinfo", "model name"),
        "nproc": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "mem_total_kb": mem,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "nginx": nginx,
        "load_generator": load_version,
        "loadavg_at_start": load_start,
        "loadavg_at_end": super::host::loadavg(),
        "commit": stdout(&["git", "-C", &root, "rev-parse", "--short", "HEAD"]),
        "worktree_dirty": !stdout(&["git", "-C", &root, "status", "--porcelain"]).is_empty(),
        "profile": "release",
    })
}

#[cfg(test)]
#[path = "observe_tests.rs"]
mod tests;
