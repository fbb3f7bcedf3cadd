//! `<state>/audit.log`: one JSON object per line, appended, never rewritten. Every action
//! writes a `started` line and an outcome line with the same id.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde_json::{json, Map, Value};

/// One line's fields after `ts`, `user` and `host`.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub id: String,
    pub action: String,
    pub part: String,
    pub runtime: String,
    pub from_slot: String,
    pub from_version: String,
    pub to_slot: String,
    pub to_version: String,
    pub outcome: String,
    pub duration_s: Option<u64>,
    pub stage: Option<String>,
    pub error: Option<String>,
}

/// The line, without the newline.
pub fn line(entry: &Entry, ts: &str, user: &str, host: &str) -> String {
    let mut m = Map::new();
    for (k, v) in [
        ("ts", ts),
        ("user", user),
        ("host", host),
        ("id", &entry.id),
        ("action", &entry.action),
        ("part", &entry.part),
        ("runtime", &entry.runtime),
        ("from_slot", &entry.from_slot),
        ("from_version", &entry.from_version),
        ("to_slot", &entry.to_slot),
        ("to_version", &entry.to_version),
        ("outcome", &entry.outcome),
    ] {
        m.insert(k.into(), json!(v));
    }
    if let Some(d) = entry.duration_s {
        m.insert("duration_s".into(), json!(d));
    }
    if let Some(stage) = &entry.stage {
        m.insert("stage".into(), json!(stage));
    }
    if let Some(error) = &entry.error {
        m.insert("error".into(), json!(error));
    }
    Value::Object(m).to_string()
}

pub fn append(dir: &Path, entry: &Entry) -> anyhow::Result<()> {
    let text = line(
        entry,
        &super::utc_now(),
        &super::actor(),
        &super::hostname(),
    );
    std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    let path = dir.join("audit.log");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("while opening {}", path.display()))?;
    file.write_all(format!("{text}\n").as_bytes())
        .with_context(|| format!("while appending to {}", path.display()))
}

/// The last `count` actions (of one part, or all), one readable line each.
pub fn recent(dir: &Path, part: Option<&str>, count: usize) -> Vec<String> {
    let path = dir.join("audit.log");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.trim().is_empty() {
        return vec![format!("  (no actions recorded in {})", path.display())];
    }
    let lines: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| part.is_none_or(|p| v["part"] == p))
        .map(|v| pretty(&v))
        .collect();
    lines[lines.len().saturating_sub(count)..].to_vec()
}

fn pretty(v: &Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("?").to_owned();
    let mut outcome = s("outcome");
    if let Some(stage) = v["stage"].as_str() {
        outcome.push_str(&format!(" at {stage}"));
    }
    if let Some(d) = v["duration_s"].as_u64() {
        outcome.push_str(&format!(" ({d}s)"));
    }
    if let Some(error) = v["error"].as_str() {
        outcome.push_str(&format!(": {error}"));
    }
    let change = format!(
        "{}@{} -> {}@{}",
        s("from_slot"),
        s("from_version"),
        s("to_slot"),
        s("to_version")
    );
    let fields = [s("ts"), s("user"), s("action"), s("part"), change, outcome];
    format!("  {}", fields.join("  "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_line_has_the_fields_in_order_and_reads_back_pretty() {
        let entry = Entry {
            id: "ab12".into(),
            action: "deploy".into(),
            part: "product".into(),
            runtime: "local".into(),
            from_slot: "blue".into(),
            from_version: "0.1.0".into(),
            to_slot: "green".into(),
            to_version: "never-ready".into(),
            outcome: "failed".into(),
            duration_s: Some(9),
            stage: Some("ready".into()),
            error: Some("not \"ready\"".into()),
        };
        let text = line(&entry, "2026-11-21T00:22:58Z", "root", "vm");
        assert_eq!(
            text,
            r#"{"ts":"2026-11-21T00:22:58Z","user":"root","host":"vm","id":"ab12","action":"deploy","part":"product","runtime":"local","from_slot":"blue","from_version":"0.1.0","to_slot":"green","to_version":"never-ready","outcome":"failed","duration_s":9,"stage":"ready","error":"not \"ready\""}"#
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            pretty(&v),
            "  2026-11-21T00:22:58Z  root  deploy  product  blue@0.1.0 -> green@never-ready  failed at ready (9s): not \"ready\""
        );
    }
}
