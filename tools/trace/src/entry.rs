//! One log line of the trace, read into what the timeline shows. Three writers, one shape
//! (`ts`, `level`, `service`, `trace_id`, `msg`, then fields; docs/runtime.md):
//! - nginx's access line (`msg` `request`): `status`, `request_time` (seconds), `uri`,
//!   `served_by`; a `/internal/…` uri is the service-to-service listener;
//! - auth-proxy's `auth decision`: `result`, `reason`, `route`/`path`, `latency_us`;
//! - a service's `request completed`: `status`, `latency_ms`, `method`, `route`;
//! - anything else is an event inside a hop.

use chrono::DateTime;
use serde_json::{Map, Value};

/// What a line stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// nginx, public listener.
    Edge,
    /// nginx, internal listener (a call between services).
    Internal,
    /// auth-proxy's decision.
    Auth,
    /// A service finished a request.
    Completed,
    /// Anything else.
    Event,
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// When the line was written, µs since the epoch.
    pub ts_us: i64,
    pub kind: Kind,
    pub service: String,
    /// `blue`/`green` for services, `edge`/`internal` for nginx.
    pub slot: String,
    pub level: String,
    pub status: Option<u16>,
    pub latency_ms: Option<f64>,
    pub message: String,
    /// The line as written.
    pub raw: String,
}

/// Fields every line has, or that the columns already show.
const SHOWN: [&str; 15] = [
    "ts",
    "level",
    "service",
    "color",
    "version",
    "trace_id",
    "msg",
    "target",
    "method",
    "route",
    "status",
    "latency_ms",
    "user_id",
    "message",
    "served_by",
];

// === impl Entry ===

impl Entry {
    /// The entry, if `raw` is a JSON object whose `trace_id` is `trace` and whose `ts` is a
    /// time.
    pub fn parse(raw: &str, trace: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(raw).ok()?;
        let obj = value.as_object()?;
        if obj.get("trace_id")?.as_str()? != trace {
            return None;
        }
        let ts_us = DateTime::parse_from_rfc3339(obj.get("ts")?.as_str()?)
            .ok()?
            .timestamp_micros();
        let service = text(obj, "service").unwrap_or("?").to_owned();
        let level = text(obj, "level").unwrap_or("?").to_ascii_lowercase();
        let msg = text(obj, "msg").unwrap_or_default();
        let mut entry = Entry {
            ts_us,
            kind: Kind::Event,
            slot: text(obj, "color").unwrap_or("-").to_owned(),
            service,
            level,
            status: None,
            latency_ms: None,
            message: String::new(),
            raw: raw.to_owned(),
        };
        if entry.service == "nginx" && msg == "request" {
            entry.nginx(obj);
        } else if msg == "auth decision" {
            entry.auth(obj);
        } else if msg == "request completed" {
            entry.kind = Kind::Completed;
            entry.status = number(obj, "status").map(|s| s as u16);
            entry.latency_ms = number(obj, "latency_ms");
            entry.message = format!(
                "{} {} completed{}",
                text(obj, "method").unwrap_or("?"),
                text(obj, "route").unwrap_or("?"),
                user(obj)
            );
        } else {
            entry.message = format!("{msg}{}", extras(obj));
        }
        Some(entry)
    }

    fn nginx(&mut self, obj: &Map<String, Value>) {
        let uri = text(obj, "uri").unwrap_or_default();
        let internal = uri.starts_with("/internal/");
        self.kind = if internal { Kind::Internal } else { Kind::Edge };
        self.slot = if internal { "internal" } else { "edge" }.to_owned();
        self.status = number(obj, "status").map(|s| s as u16);
        self.latency_ms = number(obj, "request_time").map(|s| s * 1000.0);
        let to = match (text(obj, "served_by"), text(obj, "upstream_addr")) {
            (Some(s), _) if !s.is_empty() => format!(" -> {s}"),
            (_, Some(a)) if !a.is_empty() => format!(" -> {a}"),
            _ => String::new(),
        };
        let upstream = match (text(obj, "upstream_status"), self.status) {
            (Some(u), Some(s)) if !u.is_empty() && u != s.to_string() => {
                format!(" (upstream {u})")
            }
            _ => String::new(),
        };
        self.message = format!(
            "{} {}{to}{upstream}{}",
            text(obj, "method").unwrap_or("?"),
            shorten(uri, 120),
            user(obj)
        );
    }

    fn auth(&mut self, obj: &Map<String, Value>) {
        self.kind = Kind::Auth;
        let result = text(obj, "result").unwrap_or("?");
        self.status = Some(match result {
            "allow" => 200,
            "unauthorized" => 401,
            "forbidden" => 403,
            _ => 503,
        });
        self.latency_ms = number(obj, "latency_us").map(|us| us / 1000.0);
        let target = text(obj, "route")
            .or_else(|| text(obj, "path"))
            .unwrap_or("?");
        self.message = format!(
            "auth {result} ({}) {} {target}{}",
            text(obj, "reason").unwrap_or("?"),
            text(obj, "method").unwrap_or("?"),
            user(obj)
        );
    }

    /// Where the hop this line closes began: its time minus its latency.
    pub fn start_us(&self) -> i64 {
        match self.latency_ms {
            Some(ms) if self.kind != Kind::Event => self.ts_us - (ms * 1000.0).round() as i64,
            _ => self.ts_us,
        }
    }

    /// A request handled somewhere (not an event inside one).
    pub fn is_hop(&self) -> bool {
        self.kind != Kind::Event && self.latency_ms.is_some()
    }

    /// 5xx or an error-level line.
    pub fn is_error(&self) -> bool {
        self.status.is_some_and(|s| s >= 500) || self.level == "error"
    }

    /// 4xx or a warning: the request did not get what it asked for.
    pub fn is_warning(&self) -> bool {
        self.status.is_some_and(|s| (400..500).contains(&s)) || self.level == "warn"
    }
}

fn text<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// A number, also when written as a string (nginx's `upstream_response_time`).
fn number(obj: &Map<String, Value>, key: &str) -> Option<f64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn user(obj: &Map<String, Value>) -> String {
    match obj.get("user_id") {
        Some(Value::String(s)) if !s.is_empty() => format!(" user={s}"),
        Some(Value::Number(n)) => format!(" user={n}"),
        _ => String::new(),
    }
}

/// The event's own fields as ` key=value`, in the order written.
fn extras(obj: &Map<String, Value>) -> String {
    let mut out = String::new();
    for (k, v) in obj {
        if SHOWN.contains(&k.as_str()) {
            continue;
        }
        let v = match v {
            Value::String(s) => shorten(s, 200).to_owned(),
            other => other.to_string(),
        };
        out.push_str(&format!(" {k}={v}"));
    }
    out
}

fn shorten(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn nginx_lines_are_edge_or_internal_hops() {
        let edge = format!(
            r#"{{"ts":"2026-11-21T00:10:13.071Z","level":"info","service":"nginx","msg":"request","trace_id":"{T}","method":"PUT","uri":"/api/cart/items/51","status":200,"upstream_addr":"127.0.0.1:27303","upstream_status":"200","request_time":0.017,"upstream_response_time":"0.017","bytes":105,"user_id":"7","served_by":"cart-blue@0.1.0"}}"#
        );
        let e = Entry::parse(&edge, T).expect("entry");
        assert_eq!(e.kind, Kind::Edge);
        assert_eq!(e.slot, "edge");
        assert_eq!(e.status, Some(200));
        assert_eq!(e.latency_ms, Some(17.0));
        assert_eq!(e.start_us(), e.ts_us - 17_000);
        assert_eq!(
            e.message,
            "PUT /api/cart/items/51 -> cart-blue@0.1.0 user=7"
        );
        let internal = edge.replace("/api/cart/items/51", "/internal/products?ids=51");
        assert_eq!(
            Entry::parse(&internal, T).map(|e| e.kind),
            Some(Kind::Internal)
        );
    }

    #[test]
    fn auth_and_service_lines() {
        let auth = format!(
            r#"{{"ts":"2026-11-21T00:10:12.563709Z","level":"INFO","service":"auth-proxy","color":"blue","version":"0.1.0","trace_id":"{T}","msg":"auth decision","method":"GET","route":"/api/admin/users","user_id":"2","result":"forbidden","reason":"insufficient_role","code":"forbidden","latency_us":328}}"#
        );
        let a = Entry::parse(&auth, T).expect("auth");
        assert_eq!((a.kind, a.status), (Kind::Auth, Some(403)));
        assert!(a.is_warning() && !a.is_error());
        assert_eq!(a.latency_ms, Some(0.328));
        let done = format!(
            r#"{{"ts":"2026-11-21T00:10:13.071680Z","level":"INFO","service":"cart","color":"blue","version":"0.1.0","trace_id":"{T}","msg":"request completed","target":"mall_http::server","method":"PUT","route":"/api/cart/items/{{id}}","user_id":7,"latency_ms":16.36,"status":500}}"#
        );
        let d = Entry::parse(&done, T).expect("completed");
        assert_eq!(d.kind, Kind::Completed);
        assert!(d.is_error() && d.is_hop());
        assert_eq!(d.message, "PUT /api/cart/items/{id} completed user=7");
        let event = format!(
            r#"{{"ts":"2026-11-21T00:10:13.064590Z","level":"WARN","service":"cart","color":"blue","trace_id":"{T}","msg":"cart line set","target":"x","quantity":3,"note":"a b"}}"#
        );
        let ev = Entry::parse(&event, T).expect("event");
        assert_eq!(ev.message, "cart line set quantity=3 note=a b");
        assert!(!ev.is_hop() && ev.is_warning());
    }

    #[test]
    fn other_traces_and_broken_lines_are_not_entries() {
        let other = r#"{"ts":"2026-11-21T00:10:13Z","service":"x","msg":"m","trace_id":"0123456789abcdef0123456789abcdef"}"#;
        assert!(Entry::parse(other, T).is_none());
        let mentions = format!(r#"{{"ts":"2026-11-21T00:10:13Z","msg":"about {T}"}}"#);
        assert!(Entry::parse(&mentions, T).is_none());
        assert!(Entry::parse(&format!("not json {T}"), T).is_none());
        let no_ts = format!(r#"{{"ts":"soon","trace_id":"{T}"}}"#);
        assert!(Entry::parse(&no_ts, T).is_none());
    }
}
