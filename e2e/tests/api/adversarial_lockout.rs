//! Adversarial: nobody can lock another person out. An attacker's wrong passwords for a
//! victim's email are throttled (per source address and per address + account), but the
//! victim's own correct password still gets in: at once from another address, and from the
//! attacker's own address after at most a short, announced wait (`Retry-After`), never a
//! 15-minute lock (docs/limits.md has the design: "Logins and registrations").
//!
//! The attacker and the owner use different loopback source addresses (127.0.0.x). Where
//! the edge cannot tell them apart (a container runtime's port mapping shows nginx one
//! address for every client) the owner honours `Retry-After`, which must stay short.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{mall, required_env, send, Reply, PASSWORD};

/// The longest a correct password may be held back after a burst of wrong ones.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// A client whose connections come from `source` (a loopback address other than
/// 127.0.0.1, so nginx sees another client).
fn client_from(source: &str) -> reqwest::Client {
    let addr: IpAddr = source.parse().expect("an IP address");
    reqwest::Client::builder()
        .local_address(addr)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client bound to a loopback address")
}

async fn login(client: &reqwest::Client, email: &str, password: &str) -> Reply {
    let url = format!(
        "{}/api/users/login",
        required_env("MALL_URL").trim_end_matches('/')
    );
    send(
        client
            .post(url)
            .json(&json!({ "email": email, "password": password })),
    )
    .await
}

/// Logs in with the right password, honouring short `Retry-After`s; the final answer and
/// how long it took.
async fn owner_login(client: &reqwest::Client, email: &str) -> (Reply, Duration) {
    let start = Instant::now();
    loop {
        let reply = login(client, email, PASSWORD).await;
        let wait: u64 = reply
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let in_time = start.elapsed() + Duration::from_secs(wait) <= LONGEST_WAIT;
        if reply.status != StatusCode::TOO_MANY_REQUESTS || wait == 0 || !in_time {
            return (reply, start.elapsed());
        }
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

#[tokio::test]
async fn wrong_passwords_from_an_attacker_never_lock_the_owner_out() {
    let mall = mall();
    let victim = mall.register().await;
    let attacker = client_from("127.0.0.31");
    let owner_elsewhere = client_from("127.0.0.32");

    // The attacker guesses, fast: guessing is throttled, with the standard 429.
    let mut answers = Vec::new();
    for _ in 0..15 {
        answers.push(login(&attacker, &victim.email, "not-the-password").await);
    }

    let refused: Vec<&Reply> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let verified = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        !refused.is_empty() && verified <= 8,
        "15 fast guesses: {verified} were checked, {} throttled",
        refused.len()
    );
    for r in &refused {
        r.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(
            r.header("retry-after")
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|s| s >= 1),
            "429 without Retry-After: {:?}",
            r.headers
        );
    }

    // The owner, from another address, gets in with the right password.
    let (elsewhere, took) = owner_login(&owner_elsewhere, &victim.email).await;
    assert_eq!(
        elsewhere.status,
        StatusCode::OK,
        "the owner is locked out after an attacker's guesses ({took:?}): {} {:?}",
        elsewhere.text,
        elsewhere.header("retry-after")
    );

    // Even from the attacker's own address, the right password gets in after a short wait.
    let (same_address, took) = owner_login(&attacker, &victim.email).await;
    assert_eq!(
        same_address.status,
        StatusCode::OK,
        "the right password is still refused from the attacker's address after {took:?}: {} (Retry-After {:?})",
        same_address.text,
        same_address.header("retry-after")
    );
}
