//! The blue/green stages' verdicts, pure: a load's counts (mall-load's --steady-json), zero
//! failed requests on new and on keep-alive connections, which slots answered, and the audit
//! log's record of the actions (scripts/lib/bg-test-checks.sh did this with jq).

use std::collections::BTreeMap;

use serde_json::Value;

/// One load's summary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadCounts {
    pub sent: u64,
    pub answered: u64,
    pub non_2xx: u64,
    pub by_status: BTreeMap<String, u64>,
    pub served_by: BTreeMap<String, u64>,
    /// connect, read, write, timeout
    pub errors: [u64; 4],
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub last_error: Option<String>,
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

impl LoadCounts {
    pub fn parse(text: &str) -> Result<Self, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("not mall-load's summary: {e}"))?;
        let n = |path: &[&str]| -> Result<u64, String> {
            path.iter()
                .try_fold(&v, |v, k| v.get(k))
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("no {} in mall-load's summary", path.join(".")))
        };
        let ms = |k: &str| n(&["latency_us", k]).map(|us| us as f64 / 1000.0);
        Ok(LoadCounts {
            sent: n(&["sent"])?,
            answered: n(&["answered"])?,
            non_2xx: n(&["non_2xx"])?,
            by_status: counts(&v["by_status"]),
            served_by: counts(&v["served_by"]),
            errors: [
                n(&["errors", "connect"])?,
                n(&["errors", "read"])?,
                n(&["errors", "write"])?,
                n(&["errors", "timeout"])?,
            ],
            p50_ms: ms("p50")?,
            p99_ms: ms("p99")?,
            max_ms: ms("max")?,
            last_error: v["last_error"].as_str().map(str::to_owned),
        })
    }

    pub fn socket_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// One line about the run.
    pub fn summary(&self) -> String {
        let statuses: Vec<String> = self
            .by_status
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect();
        let [c, r, w, t] = self.errors;
        let mut line = format!(
            "sent {}, answered {}, non-2xx {} {{{}}}; socket errors: connect {c}, read {r}, write {w}, timeout {t}; latency p50 {} ms, p99 {} ms, max {} ms",
            self.sent,
            self.answered,
            self.non_2xx,
            statuses.join(","),
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        );
        if let Some(e) = self
            .last_error
            .as_ref()
            .filter(|_| self.socket_errors() > 0)
        {
            line.push_str(&format!("; last error: {e}"));
        }
        line
    }
}

/// Which slots answered, both loads together.
pub fn served_together(a: &LoadCounts, b: &LoadCounts) -> BTreeMap<String, u64> {
    let mut all = a.served_by.clone();
    for (k, v) in &b.served_by {
        *all.entry(k.clone()).or_default() += v;
    }
    all
}

/// What is wrong with a zero-downtime run (nothing: it passed). `want_served`: prefixes of
/// X-Served-By values some answer must have come from.
pub fn zero_downtime(
    close: &LoadCounts,
    keep: &LoadCounts,
    nginx_not_200: usize,
    min_requests: u64,
    want_served: &[String],
) -> Vec<String> {
    let mut problems = vec![];
    if close.sent < min_requests {
        problems.push(format!(
            "only {} requests (at least {min_requests} wanted)",
            close.sent
        ));
    }
    if close.sent != close.answered {
        problems.push(format!(
            "{} requests were sent but never answered",
            close.sent.saturating_sub(close.answered)
        ));
    }
    if close.non_2xx != 0 || nginx_not_200 != 0 {
        problems.push(format!(
            "{} non-2xx answers (nginx logged {nginx_not_200} non-200)",
            close.non_2xx
        ));
    }
    if close.socket_errors() != 0 {
        problems.push(format!(
            "{} socket errors on new connections",
            close.socket_errors()
        ));
    }
    // Keep-alive connections count the same: a switch closes no connection (no reload), so
    // any reset, close or timeout a keep-alive client sees is a failure.
    if keep.sent != keep.answered {
        problems.push(format!(
            "keep-alive load: {} requests sent but never answered",
            keep.sent.saturating_sub(keep.answered)
        ));
    }
    if keep.non_2xx != 0 || keep.socket_errors() != 0 {
        problems.push(format!(
            "keep-alive load: {} non-2xx, {} socket errors (resets, closes, timeouts)",
            keep.non_2xx,
            keep.socket_errors()
        ));
    }
    let served = served_together(close, keep);
    for want in want_served {
        if !served.keys().any(|k| k.starts_with(want.as_str())) {
            problems.push(format!("no load answer came from {want}"));
        }
    }
    problems
}

/// What is wrong with the edge deploy's load (sent > 0, all answered 2xx, no socket error).
pub fn edge_load(load: &LoadCounts) -> Option<String> {
    let ok = load.sent > 0
        && load.sent == load.answered
        && load.non_2xx == 0
        && load.socket_errors() == 0;
    (!ok).then(|| {
        format!(
            "the edge deploy failed requests: sent {}, answered {}, non-2xx {}, socket errors {}",
            load.sent,
            load.answered,
            load.non_2xx,
            load.socket_errors()
        )
    })
}

/// The audit log's finished actions: "action part to_version outcome stage|-" per line.
pub fn audit_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["outcome"].as_str() != Some("started"))
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            let stage = v["stage"].as_str().unwrap_or("-");
            format!(
                "{} {} {} {} {stage}",
                s("action"),
                s("part"),
                s("to_version"),
                s("outcome")
            )
        })
        .collect()
}

/// What the steps must leave in the audit log (the refused deploy took no lock, wrote nothing).
pub fn expected_audit(p0: &str) -> Vec<String> {
    vec![
        "deploy product v2 ok -".into(),
        format!("rollback product {p0} ok -"),
        "deploy product never-ready failed ready".into(),
        "deploy auth-proxy v2 ok -".into(),
        "deploy cart v2 ok -".into(),
        "deploy user v2 ok -".into(),
    ]
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
