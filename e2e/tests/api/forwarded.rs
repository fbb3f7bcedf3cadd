//! The client address behind a TLS load balancer (docs/runtime.md, MALL_TRUSTED_PROXY_CIDR):
//! nginx takes it from `X-Forwarded-For` only on connections from the trusted range, and
//! then the right-most address outside that range, so rate limits and logs see the real
//! client and nobody can name their own address. scripts/test's e2e stack trusts
//! 127.0.0.2 and exports MALL_TRUSTED_PROXY_ADDR=127.0.0.2 for these tests.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{eventually, mall, required_env};

/// The `remote_addr` nginx logged for the request with this trace id.
async fn logged_remote_addr(trace: &str) -> String {
    let log = PathBuf::from(required_env("MALL_LOG_DIR")).join("nginx/access.log");
    let mut addr = String::new();
    let found = eventually(Duration::from_secs(5), || {
        let line = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(trace))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["trace_id"] == trace);
        if let Some(v) = &line {
            addr = v["remote_addr"].as_str().unwrap_or_default().to_owned();
        }
        async move { line.is_some() }
    })
    .await;
    assert!(
        found,
        "no access log line for trace {trace} in {}",
        log.display()
    );
    addr
}

/// GET /api/products from `from` (a local address) with the given X-Forwarded-For;
/// returns the trace id of the request.
async fn get_from(from: Option<IpAddr>, forwarded_for: &str) -> String {
    let mall = mall();
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(ip) = from {
        builder = builder.local_address(ip);
    }
    let client = builder.build().expect("client");
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let reply = client
        .get(mall.url("/api/products?size=1"))
        .header("X-Trace-Id", &trace)
        .header("X-Forwarded-For", forwarded_for)
        .send()
        .await
        .expect("request");
    assert_eq!(reply.status(), 200, "GET /api/products from {from:?}");
    trace
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_connection_is_ignored() {
    let trace = get_from(Some(IpAddr::from([127, 0, 0, 1])), "203.0.113.7").await;

    assert_eq!(logged_remote_addr(&trace).await, "127.0.0.1");
}

#[tokio::test]
async fn the_trusted_proxy_names_the_client_and_a_spoofed_hop_is_skipped() {
    let proxy: IpAddr = required_env("MALL_TRUSTED_PROXY_ADDR")
        .parse()
        .expect("MALL_TRUSTED_PROXY_ADDR is an IP address");

    let plain = get_from(Some(proxy), "203.0.113.9").await;
    // A client sent "X-Forwarded-For: 198.51.100.1"; the balancer appended the address it
    // saw. Only the balancer's entry counts.
    let spoofed = get_from(Some(proxy), "198.51.100.1, 203.0.113.10").await;

    assert_eq!(logged_remote_addr(&plain).await, "203.0.113.9");
    assert_eq!(logged_remote_addr(&spoofed).await, "203.0.113.10");
}
