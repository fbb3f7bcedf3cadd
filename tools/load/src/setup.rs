//! Before the load: the catalog as the API shows it, stock for the whole run, and the
//! shoppers, registered and signed in (sign-in measured on its own: its cost is the
//! password hash, by design).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http::{Method, StatusCode};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::{json, Value};

use crate::conn::{Call, Conn};
use crate::stats::{Line, Stats};

/// One call that must answer `want`; the body is parsed as JSON.
pub async fn expect(conn: &mut Conn, call: &Call, want: StatusCode) -> Result<Value> {
    let (status, body) = conn.send(call).await?;
    if status != want {
        bail!(
            "{} {}: expected {want}, got {status}: {}",
            call.method,
            call.path,
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body)
        .with_context(|| format!("{} {}: not JSON", call.method, call.path))
}

pub struct Catalog {
    pub product_ids: Vec<u64>,
    pub browse_paths: Vec<String>,
    pub search_paths: Vec<String>,
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Reads every product and category through the public API and derives the request paths
/// of the browse and search routes from them (what a shopper's pages would ask).
pub async fn catalog(conn: &mut Conn) -> Result<Catalog> {
    let mut product_ids = Vec::new();
    let mut words = std::collections::BTreeSet::new();
    let mut currencies: Vec<String> = Vec::new();
    for page in 1..=1000 {
        let v = expect(
            conn,
            &Call::get(
                format!("/api/products?page={page}&size=100&sort=newest"),
                None,
            ),
            StatusCode::OK,
        )
        .await?;
        let items = v["items"].as_array().context("a page without items")?;
        for p in items {
            product_ids.push(p["id"].as_u64().context("a product without an id")?);
            currencies.push(p["currency"].as_str().unwrap_or("KRW").to_string());
            if let Some(name) = p["name"].as_str() {
                for w in name.split(|c: char| !c.is_alphanumeric()) {
                    if (4..=32).contains(&w.chars().count()) {
                        words.insert(w.to_lowercase());
                    }
                }
            }
        }
        if items.len() < 100 {
            break;
        }
    }
    if product_ids.is_empty() {
        bail!("the catalog is empty: nothing to browse (scripts/dev seeds a demo catalog)");
    }
    // Shoppers put products of one currency in a cart (an order of mixed currencies is
    // refused, by design): the carts and checkouts use the catalog's most common one.
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for c in &currencies {
        *counts.entry(c.as_str()).or_default() += 1;
    }
    let main_currency = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| (*c).to_string())
        .unwrap_or_default();
    let product_ids: Vec<u64> = product_ids
        .into_iter()
        .zip(&currencies)
        .filter(|(_, c)| **c == main_currency)
        .map(|(id, _)| id)
        .collect();
    let categories = expect(
        conn,
        &Call::get("/api/categories".into(), None),
        StatusCode::OK,
    )
    .await?;
    let mut browse_paths = vec![];
    let pages = product_ids.len().div_ceil(12).clamp(1, 5);
    for page in 1..=pages {
        browse_paths.push(format!("/api/products?page={page}&size=12"));
    }
    for c in categories.as_array().context("categories are not a list")? {
        let Some(name) = c["name"].as_str() else {
            continue;
        };
        for sort in ["newest", "price_asc", "price_desc", "name"] {
            browse_paths.push(format!(
                "/api/products?category={}&sort={sort}&size=12",
                enc(name)
            ));
        }
    }
    let search_paths = words
        .iter()
        .map(|w| format!("/api/products?q={}&size=12", enc(w)))
        .collect();
    Ok(Catalog {
        product_ids,
        browse_paths,
        search_paths,
    })
}

/// Signs the admin in and raises every product's stock by `delta`, so checkouts never run
/// out during the run (an out-of-stock 409 would count as an error).
pub async fn top_up_stock(
    conn: &mut Conn,
    email: &str,
    password: &str,
    ids: &[u64],
    delta: i64,
) -> Result<()> {
    let login = expect(
        conn,
        &Call::json(
            Method::POST,
            "/api/users/login".into(),
            None,
            json!({"email": email, "password": password}).to_string(),
        ),
        StatusCode::OK,
    )
    .await
    .context("signing the admin in")?;
    let token = login["access_token"].as_str().context("no access_token")?;
    let auth = http::HeaderValue::from_str(&format!("Bearer {token}"))?;
    for id in ids {
        expect(
            conn,
            &Call::json(
                Method::PATCH,
                format!("/api/products/{id}/stock"),
                Some(auth.clone()),
                json!({ "delta": delta }).to_string(),
            ),
            StatusCode::OK,
        )
        .await
        .context("raising the stock")?;
    }
    Ok(())
}

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
