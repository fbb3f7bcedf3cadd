//! The shoppers, registered and signed in over many connections at once, with the
//! sign-in measured on its own (its cost is the password hash, by design).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use crate::conn::{Call, Conn};
use crate::stats::{Line, Stats};

#[derive(Debug, Clone, Serialize)]
pub struct SignIn {
    pub users: usize,
    pub concurrency: usize,
    pub register_seconds: f64,
    pub login_seconds: f64,
    /// Logins per second and their latency: the password hash dominates, by design.
    pub login: Line,
    pub register: Line,
}

/// Registers `n` shoppers when `register_first` (finding any an earlier run with the same
/// prefix registered) and signs each one in, `concurrency` at a time. Returns the access tokens, the
/// expiry of the earliest one, and the sign-in measurements.
pub async fn shoppers(
    addr: SocketAddr,
    prefix: &str,
    n: usize,
    concurrency: usize,
    register_first: bool,
) -> Result<(Vec<String>, Instant, SignIn)> {
    let password = format!("{prefix}-Passw0rd!");
    let mut register = Stats::default();
    let t = Instant::now();
    let n_register = if register_first { n } else { 0 };
    let registered = run_each(addr, n_register, concurrency, "registering shoppers", {
        let prefix = prefix.to_string();
        let password = password.clone();
        move |i| {
            Call::json(
                Method::POST,
                "/api/users/register".into(),
                None,
                json!({"email": format!("{prefix}-{i}@bench.local"), "password": password, "name": format!("Shopper {i}")})
                    .to_string(),
            )
        }
    })
    .await?;
    let register_seconds = t.elapsed().as_secs_f64();
    for (latency, status, _) in &registered {
        register.record(crate::mix::Route::Browse, *latency, Some(status.as_u16()));
        if *status != StatusCode::CREATED && *status != StatusCode::CONFLICT {
            bail!("registering a shopper answered {status}");
        }
    }
    let t = Instant::now();
    let logins = run_each(addr, n, concurrency, "signing shoppers in", {
        let prefix = prefix.to_string();
        move |i| {
            Call::json(
                Method::POST,
                "/api/users/login".into(),
                None,
                json!({"email": format!("{prefix}-{i}@bench.local"), "password": password})
                    .to_string(),
            )
        }
    })
    .await?;
    let login_seconds = t.elapsed().as_secs_f64();
    let mut login = Stats::default();
    let mut tokens = Vec::with_capacity(n);
    let mut expires = Duration::from_secs(u64::MAX / 4);
    for (latency, status, body) in &logins {
        login.record(crate::mix::Route::Browse, *latency, Some(status.as_u16()));
        if *status != StatusCode::OK {
            bail!("signing a shopper in answered {status} (is nginx's login rate limit raised for the benchmark?)");
        }
        let v: Value = serde_json::from_slice(body).context("login answer is not JSON")?;
        tokens.push(
            v["access_token"]
                .as_str()
                .context("no access_token")?
                .to_string(),
        );
        expires = expires.min(Duration::from_secs(v["expires_in"].as_u64().unwrap_or(60)));
    }
    let line = |s: &Stats, secs: f64| s.summary(secs).overall;
    Ok((
        tokens,
        t + expires,
        SignIn {
            users: n,
            concurrency,
            register_seconds,
            login_seconds,
            login: line(&login, login_seconds),
            register: line(&register, register_seconds),
        },
    ))
}

type Answer = (Duration, StatusCode, bytes::Bytes);

/// Sends `make(i)` for i in 0..n over `concurrency` connections; answers in order of i.
async fn run_each<F>(
    addr: SocketAddr,
    n: usize,
    concurrency: usize,
    what: &str,
    make: F,
) -> Result<Vec<Answer>>
where
    F: Fn(usize) -> Call + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let make = make.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr)?;
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let call = make(i);
                let t = Instant::now();
                let (status, body) = conn.send(&call).await?;
                out.push((i, (t.elapsed(), status, body)));
            }
            anyhow::Ok(out)
        }));
    }
    let started = Instant::now();
    let mut last = Instant::now();
    while !tasks.iter().all(|t| t.is_finished()) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if last.elapsed() >= Duration::from_secs(2) {
            last = Instant::now();
            let done = next.load(std::sync::atomic::Ordering::Relaxed).min(n);
            eprintln!(
                "  {what}: {done}/{n} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.context("a setup task panicked")??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, a)| a).collect())
}
