//! `mall bench auth`: what the auth_request round trip to auth-proxy costs
//! (docs/performance.md, "Auth overhead").

use anyhow::Result;
use serde_json::{json, Value};

use super::args::Upstream;
use super::load::Case;
use super::observe::{self, Counters};
use super::print::{self, r2};
use super::{ratios, summary, Bench};

/// VmRSS and VmHWM (peak) of a process, kB.
pub fn memory(pid: u32) -> Value {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    json!({"rss_kb": kb("VmRSS:"), "hwm_kb": kb("VmHWM:")})
}

fn lines_of(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

/// The real token's header and claims with 256 random signatures: well-formed, known kid,
/// so each costs a full signature check (the expensive kind of 401).
fn forged(token: &str) -> String {
    let head = token.rsplit_once('.').map_or(token, |(h, _)| h);
    (0..256)
        .map(|_| {
            format!(
                "Bearer {head}.{}\n",
                base64url(&crate::host::random_bytes(64))
            )
        })
        .collect()
}

/// Unpadded base64url (a JWT's signature encoding).
pub fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

pub fn run(b: &mut Bench) -> Result<()> {
    b.stack_up(&["user"])?;
    let mut user = b.register_and_login()?;
    let user_port = b.port_base + 1;
    let ap_metrics = format!("http://127.0.0.1:{}/metrics", b.port_base);
    let mut counters = Counters::default();
    counters.metric(
        "auth_cache_hits",
        &ap_metrics,
        "auth_token_cache_hits_total",
    );
    counters.metric(
        "auth_cache_misses",
        &ap_metrics,
        "auth_token_cache_misses_total",
    );
    counters.metric("auth_decisions", &ap_metrics, "auth_decisions_total");
    let (uri, desc) = match b.args.upstream {
        Upstream::Health => (
            "/health",
            "GET /health of the user slot (fixed JSON: no MySQL, no Redis, not logged at info)",
        ),
        Upstream::Me => (
            "/api/users/me",
            "GET /api/users/me of the user slot (one MySQL primary-key lookup, one info log line)",
        ),
    };
    let conf = super::nginx::auth_conf(
        b.bench_ports.0,
        &format!("127.0.0.1:{user_port}"),
        uri,
        &user.id,
        user.token_exp,
    );
    b.nginx_extra("bench-auth", &conf)?;
    b.wait_port(b.bench_ports.0)?;
    let url_a = format!("http://127.0.0.1:{}/api/users/me", b.bench_ports.0);
    let url_b = format!("http://127.0.0.1:{}/noauth/api/users/me", b.bench_ports.0);
    let url_c = format!("{}/api/users/me", b.url);
    let valid = b.tmp.join("auth-valid.txt");
    let forged_file = b.tmp.join("auth-forged.txt");
    let forged_text = forged(&user.token);
    std::fs::write(&forged_file, &forged_text)?;
    let bearer = format!("Bearer {}", user.token);
    let first_forged = forged_text.lines().next().unwrap_or("").to_owned();
    b.expect_status(
        200,
        "real /api/users/me with the token",
        &url_c,
        &[("Authorization", &bearer)],
    )?;
    b.expect_status(
        200,
        "(a) authenticated bench location",
        &url_a,
        &[("Authorization", &bearer)],
    )?;
    b.expect_status(
        401,
        "(a) bench location without a token (auth_request is active)",
        &url_a,
        &[],
    )?;
    b.expect_status(
        200,
        "(b) unauthenticated bench location",
        &url_b,
        &[("Authorization", &bearer)],
    )?;
    b.expect_status(
        401,
        "(c) real /api/users/me with a forged token",
        &url_c,
        &[("Authorization", &first_forged)],
    )?;

    let ap_pid = b.pid("auth-proxy-blue")?;
    let mem_before = memory(ap_pid);
    let ap_log = b.var.join("log/auth-proxy-blue.log");
    let ap_lines0 = lines_of(&ap_log);
    let lc = b.args.latency_connections;
    for round in 1..=b.args.rounds {
        // A fresh token each round, so no run can outlive an access token (15 min at most).
        if round > 1 {
            (user.token, user.token_exp) = b.login(&user.email, &user.password)?;
        }
        std::fs::write(&valid, format!("Bearer {}\n", user.token))?;
        let mut cases = vec![
            Case::get("auth-authenticated", round, &url_a, None, Some(&valid)),
            Case::get("auth-unauthenticated", round, &url_b, None, Some(&valid)),
            Case::get("auth-401-flood", round, &url_c, None, Some(&forged_file)),
        ];
        if lc > 0 {
            cases.push(
                Case::get("auth-authenticated", round, &url_a, None, Some(&valid)).unloaded(lc),
            );
            cases.push(
                Case::get("auth-unauthenticated", round, &url_b, None, Some(&valid)).unloaded(lc),
            );
        }
        for c in &cases {
            b.run_case(c, &counters)?;
        }
    }
    let mem_after = memory(ap_pid);
    let ap_lines = lines_of(&ap_log).saturating_sub(ap_lines0);
    let cases = summary::cases(&b.runs);
    let hwm = mem_after["hwm_kb"].as_f64().unwrap_or(0.0);
    let ratios = ratios::auth(&cases, lc, hwm);
    let result = json!({
        "benchmark": "auth",
        "machine": observe::machine(&b.root, &b.load_start, &b.load_version()),
        "params": b.params(),
        "upstream_work": desc,
        "cases": cases,
        "ratios": ratios,
        "auth_proxy": {"memory_before_runs": mem_before, "memory_after_runs": mem_after,
                       "log_lines_written_during_runs": ap_lines},
        "nginx_status_tally": observe::status_tally(&b.var, None),
        "log_sizes": observe::log_sizes(&b.var),
        "bench_nginx_conf": conf,
        "runs": b.runs,
    });
    println!(
        "\nauth benchmark: {} rounds x {}s per case, warm-up {}s; upstream work: {desc}",
        b.args.rounds, b.args.duration, b.args.warmup
    );
    print!("{}", print::tables(&result["cases"]));
    print!("{}", verdicts(&result));
    print!("{}", print::observations(&result));
    b.write_result("auth", &result)?;
    Ok(())
}

fn met(v: &Value) -> &'static str {
    match v.as_bool() {
        None => "not measured",
        Some(true) => "met",
        Some(false) => "MISSED",
    }
}

fn list(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|x| r2(x.as_f64().unwrap_or(0.0)).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ratios against the targets, the sidecar's memory and cache, as text.
fn verdicts(r: &Value) -> String {
    let (q, t, ap) = (&r["ratios"], &r["ratios"]["targets"], &r["auth_proxy"]);
    let n = |v: &Value| r2(v.as_f64().unwrap_or(0.0));
    let mb = |v: &Value| r2(v.as_f64().unwrap_or(0.0) / 1024.0);
    let mut o = format!(
        "\n  authenticated / unauthenticated req/s: {} (rounds: {}); target >= 0.85: {}\n",
        n(&q["saturated"]["throughput_ratio"]),
        list(&q["saturated"]["throughput_ratio_rounds"]),
        met(&t["throughput_met"])
    );
    o += &format!(
        "  added p99, saturated: {} ms (rounds: {}); target <= 1 ms: {}\n",
        n(&q["saturated"]["added_p99_ms"]),
        list(&q["saturated"]["added_p99_ms_rounds"]),
        met(&t["added_p99_met_saturated"])
    );
    if !q["unloaded"].is_null() {
        o += &format!(
            "  added p50 / p99, unloaded ({} connection): {} / {} ms (p99 rounds: {}); target <= 1 ms: {}\n",
            r["params"]["latency_connections"],
            n(&q["unloaded"]["added_p50_ms"]),
            n(&q["unloaded"]["added_p99_ms"]),
            list(&q["unloaded"]["added_p99_ms_rounds"]),
            met(&t["added_p99_met_unloaded"])
        );
    }
    o += &format!(
        "  401 flood / unauthenticated req/s: {}\n",
        n(&q["throughput_401_flood_over_unauthenticated"])
    );
    o += &format!(
        "  auth-proxy RSS: {} MB after the runs, peak {} MB (before: {} MB); target < 30 MB: {}\n",
        mb(&ap["memory_after_runs"]["rss_kb"]),
        mb(&ap["memory_after_runs"]["hwm_kb"]),
        mb(&ap["memory_before_runs"]["rss_kb"]),
        met(&t["rss_met"])
    );
    let cache: Vec<String> = r["cases"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            format!(
                "{k} {} hits / {} misses",
                v["counters"]["auth_cache_hits"], v["counters"]["auth_cache_misses"]
            )
        })
        .collect();
    o += &format!("  auth-proxy token cache: {}\n", cache.join("; "));
    o += &format!(
        "  auth-proxy log lines written during the runs: {}\n",
        ap["log_lines_written_during_runs"]
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_unpadded_and_url_safe() {
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(base64url(b"Man"), "TWFu");
        assert_eq!(base64url(b"Ma"), "TWE");
        assert_eq!(base64url(&[0u8; 64]).len(), 86, "an Ed25519 signature");
    }

    #[test]
    fn forged_tokens_keep_the_header_and_claims() {
        let f = forged("aaa.bbb.ccc");
        assert_eq!(f.lines().count(), 256);
        assert!(f
            .lines()
            .all(|l| l.starts_with("Bearer aaa.bbb.") && l.len() == 15 + 86));
    }
}
