//! Products and categories.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use mysql_async::prelude::Queryable;
use mysql_async::{Pool, Value};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::{now_naive, rfc3339};
use crate::domain::{ProductInput, Search};

/// A product as the API shows it: the contract the cart and order services read too.
pub use mall_contracts::product::Product;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Category {
    pub name: String,
    pub product_count: u64,
}

const SELECT: &str = "SELECT p.id, p.name, p.description, p.price, p.currency, p.stock, c.name, p.image_url, p.created_at, p.updated_at
     FROM products p JOIN categories c ON c.id = p.category_id";

type Row = (
    u64,
    String,
    String,
    i64,
    String,
    i64,
    String,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

fn product(r: Row) -> Product {
    Product {
        id: r.0,
        name: r.1,
        description: r.2,
        price: r.3,
        currency: r.4,
        stock: r.5,
        category: r.6,
        image_url: r.7,
        created_at: rfc3339(r.8),
        updated_at: rfc3339(r.9),
    }
}

/// The id of the category `name`, created when new (races resolve on the unique key).
async fn category_id<C: Queryable>(conn: &mut C, name: &str) -> Result<u64, mysql_async::Error> {
    conn.exec_drop(
        "INSERT INTO categories (name, created_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = id",
        (name, now_naive()),
    )
    .await?;
    let id: Option<u64> = conn
        .exec_first("SELECT id FROM categories WHERE name = ?", (name,))
        .await?;
    id.ok_or_else(|| mysql_async::Error::Other("category vanished".into()))
}

#[instrument(skip_all)]
pub async fn insert(pool: &Pool, p: &ProductInput) -> Result<Product, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let category = category_id(&mut conn, &p.category).await?;
    let now = now_naive();
    conn.exec_drop(
        "INSERT INTO products (name, description, price, currency, stock, category_id, image_url, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (&p.name, &p.description, p.price, &p.currency, p.stock.unwrap_or(0), category, &p.image_url, now, now),
    )
    .await?;
    let id = conn.last_insert_id().unwrap_or_default();
    drop(conn);
    find(pool, id)
        .await?
        .ok_or_else(|| mysql_async::Error::Other("inserted product vanished".into()))
}

#[instrument(skip_all, fields(product_id = id))]
pub async fn update(
    pool: &Pool,
    id: u64,
    p: &ProductInput,
) -> Result<Option<Product>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let category = category_id(&mut conn, &p.category).await?;
    conn.exec_drop(
        "UPDATE products SET name = ?, description = ?, price = ?, currency = ?,
             category_id = ?, image_url = ?, updated_at = ?
         WHERE id = ? AND deleted_at IS NULL",
        (
            &p.name,
            &p.description,
            p.price,
            &p.currency,
            category,
            &p.image_url,
            now_naive(),
            id,
        ),
    )
    .await?;
    drop(conn);
    find(pool, id).await
}

#[instrument(skip_all, fields(product_id = id))]
pub async fn soft_delete(pool: &Pool, id: u64) -> Result<bool, mysql_async::Error> {
    mall_store::db::changed_one(
        pool,
        "UPDATE products SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
        (now_naive(), now_naive(), id),
    )
    .await
}

#[instrument(skip_all, fields(product_id = id))]
pub async fn find(pool: &Pool, id: u64) -> Result<Option<Product>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let row: Option<Row> = conn
        .exec_first(
            format!("{SELECT} WHERE p.id = ? AND p.deleted_at IS NULL"),
            (id,),
        )
        .await?;
    Ok(row.map(product))
}

/// Live products among `ids` (the cart's price lookup).
#[instrument(skip_all)]
pub async fn find_many(pool: &Pool, ids: &[u64]) -> Result<Vec<Product>, mysql_async::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; ids.len()].join(",");
    let mut conn = mall_store::db::conn(pool).await?;
    let rows: Vec<Row> = conn
        .exec(
            format!("{SELECT} WHERE p.id IN ({marks}) AND p.deleted_at IS NULL"),
            ids.to_vec(),
        )
        .await?;
    Ok(rows.into_iter().map(product).collect())
}

/// The stock of each of `ids` that exists, deleted or not (the catalog cache's stock tier).
#[instrument(skip_all)]
pub async fn stocks(pool: &Pool, ids: &[u64]) -> Result<HashMap<u64, i64>, mysql_async::Error> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = vec!["?"; ids.len()].join(",");
    let mut conn = mall_store::db::conn(pool).await?;
    let rows: Vec<(u64, i64)> = conn
        .exec(
            format!("SELECT id, stock FROM products WHERE id IN ({marks})"),
            ids.to_vec(),
        )
        .await?;
    Ok(rows.into_iter().collect())
}

fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[instrument(skip_all)]
pub async fn search(
    pool: &Pool,
    s: &Search,
    offset: u64,
    limit: u32,
) -> Result<(Vec<Product>, u64), mysql_async::Error> {
    let mut clauses = vec!["p.deleted_at IS NULL".to_owned()];
    let mut params: Vec<Value> = Vec::new();
    for w in &s.words {
        clauses.push("(p.name LIKE ? OR p.description LIKE ?)".into());
        let pat = like_pattern(w);
        params.push(pat.clone().into());
        params.push(pat.into());
    }
    if let Some(c) = &s.category {
        clauses.push("c.name = ?".into());
        params.push(c.clone().into());
    }
    if let Some(lo) = s.min_price {
        clauses.push("p.price >= ?".into());
        params.push(lo.into());
    }
    if let Some(hi) = s.max_price {
        clauses.push("p.price <= ?".into());
        params.push(hi.into());
    }
    let filter = clauses.join(" AND ");
    let mut conn = mall_store::db::conn(pool).await?;
    let total: Option<u64> = conn
        .exec_first(
            format!("SELECT COUNT(*) FROM products p JOIN categories c ON c.id = p.category_id WHERE {filter}"),
            params.clone(),
        )
        .await?;
    let mut page_params = params;
    page_params.push(limit.into());
    page_params.push(offset.into());
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "{SELECT} WHERE {filter} ORDER BY {} LIMIT ? OFFSET ?",
                s.sort.order_by()
            ),
            page_params,
        )
        .await?;
    Ok((rows.into_iter().map(product).collect(), total.unwrap_or(0)))
}

#[instrument(skip_all)]
pub async fn categories(pool: &Pool) -> Result<Vec<Category>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let rows: Vec<(String, u64)> = conn
        .query(
            "SELECT c.name, COUNT(p.id) FROM categories c
             LEFT JOIN products p ON p.category_id = c.id AND p.deleted_at IS NULL
             GROUP BY c.id, c.name ORDER BY c.name",
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(name, product_count)| Category {
            name,
            product_count,
        })
        .collect())
}

#[instrument(skip_all)]
pub async fn is_empty(pool: &Pool) -> Result<bool, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let any: Option<u64> = conn.query_first("SELECT id FROM products LIMIT 1").await?;
    Ok(any.is_none())
}

/// Live (not deleted) products.
#[instrument(skip_all)]
pub async fn count(pool: &Pool) -> Result<u64, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    Ok(conn
        .query_first("SELECT COUNT(*) FROM products WHERE deleted_at IS NULL")
        .await?
        .unwrap_or(0))
}
