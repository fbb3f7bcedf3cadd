//! Trace ids end to end (DESIGN.md "Trace ids"), as the logs show them: a client's id is
//! kept only when canonical and never logged raw, a `traceparent` is adopted by every hop,
//! and nothing a client puts in a logged header (quotes, CR, LF, JSON) can break a log line.
//! `coverage` holds the audit of every log line of a run, which scripts/test runs after the
//! suite.

mod auth_cache;
mod coverage;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{eventually, is_trace_id, mall, required_env, send, unique_tag};

pub(crate) fn log_dir() -> PathBuf {
    PathBuf::from(required_env("MALL_LOG_DIR"))
}

pub(crate) fn fresh_trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Every JSON-lines log of the stack: each process's `*.log` and nginx's access log. Not
/// nginx's error log, whose format nginx fixes (plain text, no trace id).
pub(crate) fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "log"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let access = dir.join("nginx").join("access.log");
    if access.is_file() {
        files.push(access);
    }
    files
}

/// (file, raw line) for every line of the stack's logs containing `needle`.
pub(crate) fn raw_lines_with(dir: &Path, needle: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for file in log_files(dir) {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for line in String::from_utf8_lossy(&bytes).lines() {
            if line.contains(needle) {
                out.push((file.clone(), line.to_owned()));
            }
        }
    }
    out
}

/// The parsed lines whose top-level `trace_id` is `trace`.
pub(crate) fn lines_of_trace(dir: &Path, trace: &str) -> Vec<Value> {
    raw_lines_with(dir, trace)
        .into_iter()
        .filter_map(|(_, l)| serde_json::from_str::<Value>(&l).ok())
        .filter(|v| v["trace_id"] == trace)
        .collect()
}

fn has(lines: &[Value], service: &str, msg: &str) -> bool {
    lines
        .iter()
        .any(|l| l["service"] == service && l["msg"] == msg)
}

#[tokio::test]
async fn traceparent_trace_id_is_adopted_by_nginx_auth_proxy_and_the_service() {
    let mall = mall();
    let trace = fresh_trace_id();
    let dir = log_dir();

    // A URI of its own: an anonymous read nginx has seen in the last 5 s is allowed from
    // its decision cache without asking auth-proxy (docs/runtime.md; auth_cache.rs).
    let reply = send(
        mall.get(&format!("/api/products?size=1&tag={}", unique_tag()))
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01")),
    )
    .await;

    reply.expect_status(StatusCode::OK);
    assert_eq!(reply.trace_id(), trace);
    let all_there = eventually(Duration::from_secs(5), || {
        let lines = lines_of_trace(&dir, &trace);
        async move {
            has(&lines, "nginx", "request")
                && has(&lines, "auth-proxy", "auth decision")
                && has(&lines, "product", "request completed")
        }
    })
    .await;
    assert!(
        all_there,
        "nginx, auth-proxy and product lines under the traceparent's id {trace}: {:?}",
        lines_of_trace(&dir, &trace)
    );
}

#[tokio::test]
async fn invalid_client_trace_ids_are_replaced_and_never_logged() {
    let mall = mall();
    let dir = log_dir();
    // Each carries a fresh marker, so finding the marker in a log means it was logged raw
    // (or normalised: the upper-case one must not come back lower-cased either).
    let upper = fresh_trace_id();
    let quoted = fresh_trace_id();
    let short = fresh_trace_id();
    let parent = fresh_trace_id();
    let sent = [
        ("x-trace-id", upper.to_uppercase()),
        ("x-trace-id", format!("{quoted}\"}} {{\"level\":\"ERROR\"")),
        ("x-trace-id", short[..31].to_owned()),
        ("traceparent", format!("00-{parent}-zz-01")),
    ];
    let mut replacements = Vec::new();
    for (header, value) in &sent {
        // A URI of its own each, so auth-proxy is asked (nginx's anonymous decision cache).
        let path = format!("/api/products?size=1&tag={}", unique_tag());
        let reply = send(mall.get(&path).header(*header, value)).await;

        reply.expect_status(StatusCode::OK);
        assert!(is_trace_id(reply.trace_id()));
        assert!(
            ![&upper, &quoted, &short, &parent]
                .iter()
                .any(|m| reply.trace_id().contains(&m[..16])),
            "{header}: {value:?} came back as {}",
            reply.trace_id()
        );
        replacements.push(reply.trace_id().to_owned());
    }

    // The replacement ids are what every hop logged...
    for id in &replacements {
        let logged = eventually(Duration::from_secs(5), || {
            let lines = lines_of_trace(&dir, id);
            async move {
                has(&lines, "nginx", "request")
                    && has(&lines, "auth-proxy", "auth decision")
                    && has(&lines, "product", "request completed")
            }
        })
        .await;
        assert!(logged, "no nginx/auth-proxy/product lines under {id}");
    }
    // ...and the values sent are nowhere.
    for marker in [&upper, &quoted, &short, &parent] {
        for needle in [
            marker.to_uppercase(),
            marker.clone(),
            marker[..16].to_owned(),
        ] {
            let found = raw_lines_with(&dir, &needle);
            assert!(
                found.is_empty(),
                "a client-sent trace id reached a log line: {found:?}"
            );
        }
    }
}

/// Requests whose logged parts (User-Agent, the URI, the path auth-proxy logs when it
/// refuses one) carry quotes, backslashes, JSON, bare CR and LF, and encoded CR/LF.
/// Whatever each is answered, every log line containing its marker is one whole JSON
/// object, and the marker is in the field it came in, intact.
#[tokio::test]
async fn quotes_and_line_breaks_in_logged_headers_cannot_break_a_log_line() {
    let mall = mall();
    let dir = log_dir();
    let m = |n: u8| format!("{}-{n}", &fresh_trace_id()[..20]);
    let (ua_json, ua_cr, ua_lf, uri_crlf, path_crlf, token) = (m(1), m(2), m(3), m(4), m(5), m(6));
    let injected = r#"{"level":"ERROR","trace_id":"00000000000000000000000000000000"}"#;
    let ua_json_value = format!(r#"{ua_json} "quoted" \" \\ {injected}"#);
    let products = "/api/products?size=1".to_owned();
    // (request target, one header): GET each.
    let cases = [
        (products.clone(), ("User-Agent", ua_json_value.clone())),
        (
            products.clone(),
            ("User-Agent", format!("{ua_cr}\r{injected}")),
        ),
        (
            products.clone(),
            ("User-Agent", format!("{ua_lf}\n{injected}: x")),
        ),
        (
            format!("/api/products?q={uri_crlf}%0d%0a%22%7D%7B%22level%22:%22ERROR%22"),
            ("Accept", "*/*".to_owned()),
        ),
        (
            format!("/api/products/{path_crlf}%0d%0a%22x"),
            ("Accept", "*/*".to_owned()),
        ),
        (
            "/api/users/me".to_owned(),
            ("Authorization", format!("Bearer {token}.\"x\r{injected}.y")),
        ),
    ];
    let mut answered = Vec::new();
    for (target, (name, value)) in &cases {
        let headers = [(*name, value.as_str())];

        let reply = mall.raw("GET", target, &headers).await;

        // Refused or served, never a server error.
        assert!(
            reply.status.as_u16() < 500,
            "{target} {headers:?}: {}",
            reply.status
        );
        answered.push(reply.trace_id().to_owned());
    }

    // Read the logs only once every request's nginx line is there (nginx flushes its
    // access log every 500 ms), so a marker found nowhere means it was never logged, not
    // that it was not flushed yet.
    let flushed = eventually(Duration::from_secs(5), || {
        let missing: Vec<&String> = answered
            .iter()
            .filter(|id| !has(&lines_of_trace(&dir, id), "nginx", "request"))
            .collect();
        async move { missing.is_empty() }
    })
    .await;
    assert!(flushed, "nginx never logged all of {answered:?}");
    let markers = [&ua_json, &ua_cr, &ua_lf, &uri_crlf, &path_crlf];
    for (marker, id) in markers.iter().zip(&answered) {
        // Each request's marker is in its access line, unless nginx refused the request
        // before reading that header (400, no upstream): nothing to check vacuously.
        let lines = lines_of_trace(&dir, id);
        let edge = lines
            .iter()
            .find(|l| l["service"] == "nginx")
            .expect("nginx's line");
        assert!(
            edge.to_string().contains(marker.as_str())
                || (edge["status"] == 400 && edge["upstream_addr"] == ""),
            "{marker:?} is neither in its request's access line nor refused at the edge: {edge}"
        );
    }
    for marker in markers {
        for (file, line) in raw_lines_with(&dir, marker) {
            let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!(
                    "{}: a line with {marker:?} is not JSON ({e}): {line}",
                    file.display()
                )
            });
            assert!(
                value["trace_id"].as_str().is_some_and(is_trace_id),
                "{}: {line}",
                file.display()
            );
            assert_ne!(value["level"], "ERROR", "the injected level won: {line}");
            let carried = value.as_object().is_some_and(|o| {
                o.values()
                    .any(|v| v.as_str().is_some_and(|v| v.contains(marker.as_str())))
            });
            assert!(carried, "{marker:?} is not inside a field's value: {line}");
        }
    }
    let whole = raw_lines_with(&dir, &ua_json);
    assert!(
        whole
            .iter()
            .filter_map(|(_, l)| serde_json::from_str::<Value>(l).ok())
            .any(|v| v["user_agent"] == ua_json_value.as_str()),
        "the User-Agent was not logged intact: {whole:?}"
    );
    // A token never reaches a log, whatever it holds.
    assert!(
        raw_lines_with(&dir, &token).is_empty(),
        "a bearer token was logged"
    );
}
