//! Before the load: the catalog as the API shows it, stock for the whole run, and the
//! shoppers, registered and signed in (sign-in measured on its own: its cost is the
//! password hash, by design).

mod signin;

use anyhow::{bail, Context, Result};
use http::{Method, StatusCode};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::conn::{Call, Conn};

pub use signin::{shoppers, SignIn};

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
