//! The trace-id coverage audit (scripts/test's `trace` step, after the whole suite):
//! 1. requests with known trace ids through nginx: a cart write (cart → product's live
//!    slot, called directly: docs/runtime.md "Internal calls"; the product was just
//!    created, an admin write that drops the cart's copy of the prices, so the cart asks
//!    product), a failing one (unknown product), an unauthenticated one, and, when the
//!    order service is part of the stack, a checkout and a declined checkout (order →
//!    product, order → payment → gateway, order → cart);
//! 2. for each: nginx's access line, auth-proxy's decision line, a `request completed`
//!    line from every part that served it in a call of its own and the lines of the work
//!    done for it in a batched call (a paid checkout's reservation and its commit: the
//!    batch's own `request completed` line is under the batch's id), all under the id,
//!    and every log line that contains the id carries it as its top-level `trace_id`;
//! 3. every line of every log of the run: one JSON object; nginx's lines and every
//!    request line (one with the request span's `method`/`route`, a `request completed`
//!    or an `auth decision`) carry a valid trace id;
//! 4. while any request of the run was being served (from its start to 250 ms after its
//!    `request completed` or `auth decision`, in the part that wrote it), every line that
//!    part wrote carries a trace id unless it is a known background line: a spawned task
//!    that lost the request's span, or a panic message on stderr, fails here, whichever
//!    request it came from.
//!
//! The logs are read only once all of the run is on disk: a marker request through every
//! part, whose lines are waited for (nginx flushes its access log every 500 ms).
//!
//! Lines without a trace id outside requests (start-up, key refreshes, the order
//! service's reconciliation) are fine; the unfamiliar ones are listed in the summary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use super::{fresh_trace_id, is_trace_id, log_dir, log_files, raw_lines_with};
use crate::helpers::{eventually, mall, product_body, send, unique_tag};

/// Lines written outside any request, the only ones allowed without `trace_id`: (part or
/// `*`, start of the message). A new background line (a loop, a start-up step) goes here;
/// a line written while serving a request never does: it must carry the request's span.
const BACKGROUND: &[(&str, &str)] = &[
    // the serving loop (mall_http::server) and auth-proxy's own
    ("*", "listening"),
    ("*", "accept failed"),
    ("*", "SIGTERM received"),
    ("*", "SIGINT received"),
    ("*", "shutting down"),
    ("*", "drained; bye"),
    ("*", "grace period over"),
    ("*", "applying migration"),
    ("auth-proxy", "auth-proxy listening"),
    // key refresh loop; a refetch for an unknown kid runs inside the request and has its id
    ("auth-proxy", "JWKS fetch failed"),
    ("auth-proxy", "installed JWKS key set"),
    ("auth-proxy", "skipped a JWKS key"),
    ("auth-proxy", "revocation feed"),
    ("auth-proxy", "ignored a malformed revocation message"),
    ("auth-proxy", "SIGHUP"),
    ("auth-proxy", "policy reload"),
    ("auth-proxy", "static key"),
    ("user", "signing keys"),
    // the reconciler's round summary (each order it settles is under that order's trace)
    ("order", "reconciliation round"),
    ("user", "generated a first signing key"),
    ("user", "bootstrap admin"),
    ("product", "demo catalog loaded"),
    // the catalog's change feed (mall_store::feed): product's cache and the cart's copy
    ("*", "change feed"),
    ("gateway-sim", "card gateway simulator starting"),
];

/// Fields of the request span (mall_http::server): a line with one was written while
/// serving a request.
const REQUEST_FIELDS: [&str; 2] = ["method", "route"];
/// Messages that end a hop.
const HOP_MESSAGES: [&str; 2] = ["request completed", "auth decision"];
/// How long after a hop's `request completed` its part's lines still count as its own
/// (a task spawned by the handler may log after the answer).
const AFTER_US: i64 = 250_000;

/// One traced request and what its logs must show.
struct Expect {
    name: &'static str,
    id: String,
    status: u16,
    auth: &'static str,
    /// Parts (log file names without slot) with a `request completed` line under the id.
    parts: Vec<&'static str>,
    /// (part, message) of lines under the id: work done for the request in a batched call.
    batched: Vec<(&'static str, &'static str)>,
    /// A call between services, so a callee's `request completed` line of an `/internal/`
    /// route under the same id (the caller passed it on).
    internal: bool,
}

impl Expect {
    /// The parts whose lines the request's story must show (scripts/trace).
    fn shown(&self) -> Vec<&'static str> {
        let mut parts = self.parts.clone();
        for (part, _) in &self.batched {
            if !parts.contains(part) {
                parts.push(part);
            }
        }
        parts
    }
}

/// `cart-blue.log` → `cart`, `gateway-sim.log` → `gateway-sim`, `nginx/access.log` → `nginx`.
fn part_of(file: &Path) -> String {
    if file
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "nginx")
    {
        return "nginx".into();
    }
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    stem.strip_suffix("-blue")
        .or_else(|| stem.strip_suffix("-green"))
        .unwrap_or(stem)
        .to_owned()
}

fn checkout_in_stack(dir: &Path) -> bool {
    ["order-blue.log", "order-green.log"]
        .iter()
        .any(|f| dir.join(f).is_file())
}

#[tokio::test]
#[ignore = "scripts/test runs it after the whole suite: it audits every log line of the run"]
async fn every_line_of_the_run_carries_its_trace_id() {
    let dir = log_dir();

    let expects = traced_requests(&dir).await;

    let problems = eventually(Duration::from_secs(10), || {
        let problems: Vec<String> = expects.iter().flat_map(|e| check_trace(&dir, e)).collect();
        async move { problems.is_empty() }
    })
    .await;
    let trace_problems: Vec<String> = if problems {
        Vec::new()
    } else {
        expects.iter().flat_map(|e| check_trace(&dir, e)).collect()
    };
    flushed(&dir).await;
    let audit = audit_all_lines(&dir);
    eprintln!("{}", audit.summary);
    if let Ok(file) = std::env::var("MALL_TRACE_IDS_FILE") {
        let text: String = expects
            .iter()
            .map(|e| format!("{} {} {} {}\n", e.name, e.id, e.status, e.shown().join(",")))
            .collect();
        std::fs::write(&file, text).unwrap_or_else(|e| panic!("writing {file}: {e}"));
    }
    let mut all = trace_problems;
    all.extend(audit.problems);
    assert!(
        all.is_empty(),
        "{} trace coverage problem(s):\n{}",
        all.len(),
        all.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Sends the traced requests; returns what each must have left in the logs.
async fn traced_requests(dir: &Path) -> Vec<Expect> {
    let mall = mall();
    let admin = mall.admin().await;
    let tag = unique_tag();
    let product = mall
        .create_product(
            &admin.access,
            &product_body(&format!("Trace {tag}"), &format!("E2E-Trace-{tag}"), 1500),
        )
        .await;
    let product_id = product["id"].as_i64().expect("product id");
    let (_user, tokens) = mall.customer().await;
    let mut expects = Vec::new();

    let id = fresh_trace_id();
    send(
        mall.put(&format!("/api/cart/items/{product_id}"))
            .bearer_auth(&tokens.access)
            .header("X-Trace-Id", &id)
            .json(&json!({ "quantity": 2 })),
    )
    .await
    .expect_status(StatusCode::OK);
    expects.push(Expect {
        name: "cart-put",
        id,
        status: 200,
        auth: "allow",
        parts: vec!["cart", "product"],
        batched: vec![],
        internal: true,
    });

    let id = fresh_trace_id();
    send(
        mall.put("/api/cart/items/1999999999")
            .bearer_auth(&tokens.access)
            .header("X-Trace-Id", &id)
            .json(&json!({ "quantity": 1 })),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    expects.push(Expect {
        name: "cart-unknown-product",
        id,
        status: 404,
        auth: "allow",
        parts: vec!["cart", "product"],
        batched: vec![],
        internal: true,
    });

    let id = fresh_trace_id();
    send(mall.get("/api/cart").header("X-Trace-Id", &id))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    expects.push(Expect {
        name: "cart-no-token",
        id,
        status: 401,
        auth: "unauthorized",
        parts: vec![],
        batched: vec![],
        internal: false,
    });

    if checkout_in_stack(dir) {
        // The reservation and a paid order's commit are batched; a declined order's
        // release is a call of its own. The cart's priced view comes from its copy.
        let reserved = ("product", "stock reserved");
        for (name, card, status, product_parts, batched) in [
            (
                "checkout-paid",
                "tok_ok",
                StatusCode::CREATED,
                vec![],
                vec![reserved, ("product", "reservation committed")],
            ),
            (
                "checkout-declined",
                "tok_declined",
                StatusCode::PAYMENT_REQUIRED,
                vec!["product"],
                vec![reserved],
            ),
        ] {
            mall.put_cart_item(&tokens.access, product_id, 1)
                .await
                .expect_status(StatusCode::OK);
            let id = fresh_trace_id();
            let reply = send(
                mall.post("/api/orders")
                    .bearer_auth(&tokens.access)
                    .header("X-Trace-Id", &id)
                    .header("Idempotency-Key", format!("trace-{}", unique_tag()))
                    .json(&json!({ "payment": { "card_token": card } })),
            )
            .await;
            reply.expect_status(status);
            expects.push(Expect {
                name,
                id,
                status: status.as_u16(),
                auth: "allow",
                parts: [
                    vec!["order", "cart", "payment", "gateway-sim"],
                    product_parts,
                ]
                .concat(),
                batched,
                internal: true,
            });
        }
    }
    expects
}

/// Returns once every line the run wrote is on disk: after `AFTER_US` (what a handler's
/// task may still write after the last traced request), a marker request reaches every
/// part that has a log here, and each part's marker line is waited for. Every part writes
/// its lines in order (nginx flushes its buffer every 500 ms, the services every ~20 ms),
/// so once a part's marker line is in its file, everything it wrote before is too: the
/// audit then reads the whole run, not whatever happened to be flushed.
async fn flushed(dir: &Path) {
    tokio::time::sleep(Duration::from_micros(AFTER_US.unsigned_abs())).await;
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let marker = fresh_trace_id();
    let parts: BTreeSet<String> = log_files(dir).iter().map(|f| part_of(f)).collect();
    let with_token = [
        "/api/users/me",
        "/api/cart",
        "/api/orders?size=1",
        "/api/payments/2000000000",
    ];
    for path in with_token {
        send(
            mall.get(path)
                .bearer_auth(&tokens.access)
                .header("X-Trace-Id", &marker),
        )
        .await;
    }
    send(
        mall.get(&format!("/api/products?size=1&flush={}", unique_tag()))
            .header("X-Trace-Id", &marker),
    )
    .await;
    if parts.contains("gateway-sim") {
        let gateway = crate::helpers::required_env("MALL_GATEWAY_URL");
        reqwest::Client::new()
            .get(format!("{gateway}/v1/stats"))
            .header("X-Trace-Id", &marker)
            .send()
            .await
            .expect("the gateway simulator answers");
    }
    let missing = || {
        let seen: BTreeSet<String> = raw_lines_with(dir, &marker)
            .iter()
            .map(|(file, _)| part_of(file))
            .collect();
        parts.difference(&seen).cloned().collect::<Vec<_>>()
    };
    let all_flushed = eventually(Duration::from_secs(10), || {
        let missing = missing();
        async move { missing.is_empty() }
    })
    .await;
    assert!(
        all_flushed,
        "no line of the flush marker {marker} from {:?}: their logs cannot be read whole",
        missing()
    );
}

/// What is missing or wrong in the logs of one traced request.
fn check_trace(dir: &Path, e: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let mut lines: Vec<(String, Value)> = Vec::new();
    for (file, raw) in raw_lines_with(dir, &e.id) {
        match serde_json::from_str::<Value>(&raw) {
            Ok(v) if v["trace_id"] == e.id.as_str() => lines.push((part_of(&file), v)),
            _ => problems.push(format!(
                "{} ({}): {} has a line mentioning the id without carrying it as trace_id: {raw}",
                e.name,
                e.id,
                file.display()
            )),
        }
    }
    let find =
        |part: &str, pred: &dyn Fn(&Value) -> bool| lines.iter().any(|(p, v)| p == part && pred(v));
    let uri = |v: &Value| v["uri"].as_str().unwrap_or_default().to_owned();
    if !find("nginx", &|v| {
        !uri(v).starts_with("/internal/") && v["status"] == e.status
    }) {
        problems.push(format!(
            "{} ({}): no nginx access line with status {}",
            e.name, e.id, e.status
        ));
    }
    if !find("auth-proxy", &|v| {
        v["msg"] == "auth decision" && v["result"] == e.auth
    }) {
        problems.push(format!(
            "{} ({}): no auth-proxy decision line ({})",
            e.name, e.id, e.auth
        ));
    }
    let internal_call = |v: &Value| {
        v["msg"] == "request completed"
            && v["route"]
                .as_str()
                .is_some_and(|r| r.starts_with("/internal/"))
    };
    if e.internal && !e.parts.iter().any(|part| find(part, &internal_call)) {
        problems.push(format!(
            "{} ({}): no callee's line of an /internal/ call",
            e.name, e.id
        ));
    }
    for part in &e.parts {
        if !find(part, &|v| v["msg"] == "request completed") {
            problems.push(format!(
                "{} ({}): no 'request completed' line from {part}",
                e.name, e.id
            ));
        }
    }
    for (part, msg) in &e.batched {
        if !find(part, &|v| v["msg"] == *msg) {
            problems.push(format!(
                "{} ({}): no '{msg}' line from {part}",
                e.name, e.id
            ));
        }
    }
    problems
}

/// One line of the run.
struct Line {
    at: String,
    part: String,
    ts_us: Option<i64>,
    fields: Map<String, Value>,
}

impl Line {
    fn trace_id(&self) -> Option<&str> {
        self.fields.get("trace_id").and_then(Value::as_str)
    }
    fn msg(&self) -> &str {
        self.fields
            .get("msg")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    fn is_background(&self) -> bool {
        BACKGROUND
            .iter()
            .any(|(p, m)| (*p == "*" || *p == self.part) && self.msg().starts_with(m))
    }
    fn text(&self) -> String {
        cut(&Value::Object(self.fields.clone()).to_string())
    }
}

struct Audit {
    problems: Vec<String>,
    summary: String,
}

/// Every line of every log file of the run (see the module docs).
fn audit_all_lines(dir: &Path) -> Audit {
    let mut problems = Vec::new();
    let files: Vec<PathBuf> = log_files(dir);
    let mut lines = Vec::new();
    for file in &files {
        let part = part_of(file);
        let bytes = std::fs::read(file).unwrap_or_default();
        for (n, raw) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let at = format!("{}:{}", file.display(), n + 1);
            match serde_json::from_str::<Value>(raw) {
                Ok(Value::Object(fields)) => lines.push(Line {
                    at,
                    part: part.clone(),
                    ts_us: fields.get("ts").and_then(Value::as_str).and_then(ts_us),
                    fields,
                }),
                _ => problems.push(format!("{at}: not one JSON object: {}", cut(raw))),
            }
        }
    }
    let (mut traced, mut background) = (0usize, 0usize);
    let mut unfamiliar: Vec<(String, String, usize)> = Vec::new();
    for line in &lines {
        let at = &line.at;
        match line.fields.get("trace_id") {
            Some(Value::String(id)) if is_trace_id(id) => traced += 1,
            Some(other) => problems.push(format!("{at}: trace_id {other} is not 32 lowercase hex")),
            None if line.part == "nginx" => problems.push(format!(
                "{at}: nginx access line without trace_id: {}",
                line.text()
            )),
            None => {
                let request = REQUEST_FIELDS
                    .iter()
                    .find(|f| line.fields.contains_key(**f));
                if let Some(field) = request {
                    problems.push(format!(
                        "{at}: request line ({field}) without trace_id: {}",
                        line.text()
                    ));
                } else if HOP_MESSAGES.contains(&line.msg()) {
                    problems.push(format!("{at}: {} line without trace_id", line.msg()));
                } else if line.is_background() {
                    background += 1;
                } else {
                    match unfamiliar
                        .iter_mut()
                        .find(|(p, m, _)| *p == line.part && m == line.msg())
                    {
                        Some((_, _, n)) => *n += 1,
                        None => unfamiliar.push((line.part.clone(), line.msg().to_owned(), 1)),
                    }
                }
            }
        }
    }
    problems.extend(lost_while_serving(&lines));
    let mut summary = format!(
        "trace coverage audit: {} lines in {} files; {traced} with a trace id, {background} \
         known background lines, {} problem(s)",
        lines.len(),
        files.len(),
        problems.len()
    );
    if !unfamiliar.is_empty() {
        summary.push_str(
            "\nlines without a trace id outside the traced requests, not in BACKGROUND \
             (fine for background work; a request's work must carry its id):",
        );
        for (part, msg, n) in &unfamiliar {
            summary.push_str(&format!("\n  {part}: {msg:?} x{n}"));
        }
    }
    Audit { problems, summary }
}

/// Lines without a trace id that a part wrote while serving a request: any request of the
/// run, each from its start to `AFTER_US` after its `request completed` or `auth decision`
/// line (the hop lines with a trace id; those without one are problems already).
fn lost_while_serving(lines: &[Line]) -> Vec<String> {
    // Per part: (start, end, trace id) of every hop, sorted by start, with the running
    // maximum of the ends, so "inside some window" is one binary search.
    let mut windows: BTreeMap<&str, Vec<(i64, i64, &str)>> = BTreeMap::new();
    for hop in lines
        .iter()
        .filter(|l| l.part != "nginx" && HOP_MESSAGES.contains(&l.msg()))
    {
        let (Some(end), Some(id)) = (hop.ts_us, hop.trace_id()) else {
            continue;
        };
        let latency_us = match hop.msg() {
            "auth decision" => hop.fields.get("latency_us").and_then(Value::as_f64),
            _ => hop
                .fields
                .get("latency_ms")
                .and_then(Value::as_f64)
                .map(|ms| ms * 1000.0),
        }
        .unwrap_or(0.0) as i64;
        windows.entry(hop.part.as_str()).or_default().push((
            end - latency_us - 1_000,
            end + AFTER_US,
            id,
        ));
    }
    let mut reach: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for (part, w) in &mut windows {
        w.sort_unstable();
        let mut furthest = i64::MIN;
        reach.insert(
            part,
            w.iter()
                .map(|&(_, end, _)| {
                    furthest = furthest.max(end);
                    furthest
                })
                .collect(),
        );
    }
    let mut problems = Vec::new();
    for l in lines {
        let (Some(t), None) = (l.ts_us, l.trace_id()) else {
            continue;
        };
        if l.is_background() {
            continue;
        }
        let (Some(w), Some(reach)) = (windows.get(l.part.as_str()), reach.get(l.part.as_str()))
        else {
            continue;
        };
        // The windows starting at or before t; one of them still open at t?
        let started = w.partition_point(|&(start, _, _)| start <= t);
        if started == 0 || reach[started - 1] < t {
            continue;
        }
        let serving = w[..started]
            .iter()
            .rev()
            .find(|&&(_, end, _)| end >= t)
            .map_or("?", |&(_, _, id)| id);
        problems.push(format!(
            "{}: written by {} while it served a request ({serving}), without trace_id: {}",
            l.at,
            l.part,
            l.text()
        ));
    }
    problems
}

/// `2026-11-21T00:25:44.291681Z` (UTC, as every part of the mall writes) as µs since the
/// epoch.
fn ts_us(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let time = time
        .strip_suffix('Z')
        .or_else(|| time.strip_suffix("+00:00"))?;
    let mut ymd = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (ymd.next()??, ymd.next()??, ymd.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut hms = hms.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, mi, se) = (hms.next()??, hms.next()??, hms.next()??);
    let digits: String = frac.chars().take(6).collect();
    let micros: i64 = format!("{digits:0<6}").parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some((days * 86_400 + (h * 60 + mi) * 60 + se) * 1_000_000 + micros)
}

fn cut(line: &str) -> String {
    let short: String = line.chars().take(300).collect();
    if short.len() < line.len() {
        short + "…"
    } else {
        short
    }
}

#[test]
fn timestamps_read_as_utc_microseconds() {
    assert_eq!(ts_us("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(ts_us("1970-01-02T00:00:01.5Z"), Some(86_401_500_000));
    assert_eq!(
        ts_us("2026-11-21T00:25:44.291681Z"),
        Some(1_795_220_744_291_681)
    );
    assert_eq!(
        ts_us("2026-11-21T00:25:44.291Z"),
        Some(1_795_220_744_291_000)
    );
    assert_eq!(ts_us("soon"), None);
}

/// The audit on a made-up run: a cart request whose handler spawned a task that lost the
/// span, a request line without the id, a broken line, and lines that are fine.
#[test]
fn the_audit_catches_lines_that_lost_the_trace_id() {
    let dir = std::env::temp_dir().join(format!("trace-audit-{}", fresh_trace_id()));
    std::fs::create_dir_all(dir.join("nginx")).expect("dir");
    let id = fresh_trace_id();
    let other = fresh_trace_id();
    let cart = [
        r#"{"ts":"2026-11-21T00:00:00.000000Z","level":"INFO","service":"cart","msg":"listening"}"#.to_owned(),
        format!(r#"{{"ts":"2026-11-21T00:00:01.005000Z","level":"INFO","service":"cart","trace_id":"{id}","msg":"cart line set","method":"PUT","route":"/api/cart"}}"#),
        r#"{"ts":"2026-11-21T00:00:01.006000Z","level":"INFO","service":"cart","msg":"cache refreshed"}"#.to_owned(),
        format!(r#"{{"ts":"2026-11-21T00:00:01.010000Z","level":"INFO","service":"cart","trace_id":"{id}","msg":"request completed","method":"PUT","route":"/api/cart","latency_ms":10.0,"status":200}}"#),
        r#"{"ts":"2026-11-21T00:00:01.100000Z","level":"INFO","service":"cart","msg":"emptied in the background"}"#.to_owned(),
        r#"{"ts":"2026-11-21T00:00:09.000000Z","level":"INFO","service":"cart","msg":"nightly sweep"}"#.to_owned(),
        r#"{"ts":"2026-11-21T00:00:09.500000Z","level":"INFO","service":"cart","msg":"request completed","method":"GET","route":"/api/cart"}"#.to_owned(),
        // Another request of the run, traced by nobody in particular: a line that lost its
        // id while it was served counts as much.
        r#"{"ts":"2026-11-21T00:00:20.002000Z","level":"INFO","service":"cart","msg":"priced in a detached task"}"#.to_owned(),
        format!(r#"{{"ts":"2026-11-21T00:00:20.010000Z","level":"INFO","service":"cart","trace_id":"{other}","msg":"request completed","method":"GET","route":"/api/cart","latency_ms":10.0,"status":200}}"#),
        r#"{"ts":"2026-11-21T00:00:30.000000Z","level":"INFO","service":"cart","msg":"listening"}"#.to_owned(),
        "thread 'tokio-runtime-worker' panicked at src/routes.rs:1:1".to_owned(),
    ];
    std::fs::write(dir.join("cart-blue.log"), cart.join("\n") + "\n").expect("write");
    let access = [
        format!(
            r#"{{"ts":"2026-11-21T00:00:01.011Z","service":"nginx","msg":"request","trace_id":"{id}","status":200}}"#
        ),
        r#"{"ts":"2026-11-21T00:00:02.000Z","service":"nginx","msg":"request","status":200}"#
            .to_owned(),
    ];
    std::fs::write(
        dir.join("nginx").join("access.log"),
        access.join("\n") + "\n",
    )
    .expect("write");
    let audit = audit_all_lines(&dir);

    std::fs::remove_dir_all(&dir).ok();
    let found = |what: &str| audit.problems.iter().any(|p| p.contains(what));
    assert!(found("cache refreshed"), "{:?}", audit.problems);
    assert!(found("emptied in the background"), "{:?}", audit.problems);
    assert!(found("priced in a detached task"), "{:?}", audit.problems);
    assert!(!found("listening"), "{:?}", audit.problems);
    assert!(
        found("request line (method) without trace_id"),
        "{:?}",
        audit.problems
    );
    assert!(found("not one JSON object: thread"), "{:?}", audit.problems);
    assert!(
        found("nginx access line without trace_id"),
        "{:?}",
        audit.problems
    );
    assert_eq!(audit.problems.len(), 6, "{:?}", audit.problems);
    assert!(
        audit.summary.contains("\"nightly sweep\" x1"),
        "{}",
        audit.summary
    );
}
