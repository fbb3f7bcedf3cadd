//! The `cart_items` table (the source of truth) and the Redis read cache of a user's lines.
//! A write that cannot invalidate the cache marks the user dirty in this process; dirty
//! users' cache entries are deleted before the cache is used again, and until then the
//! cache is bypassed, so a cart cached before a Redis outage is never served after it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use mall_store::cache::Redis;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::domain::Quantity;

pub const MIGRATIONS: &[mall_store::db::Migration] = &[mall_store::db::Migration {
    version: 1,
    name: "cart items",
    sql: include_str!("../migrations/0001_cart.sql"),
}];

/// One stored line: product and quantity (prices are never stored: they come from the
/// catalog at read time).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Line {
    pub product_id: u64,
    pub quantity: u32,
}

#[derive(Clone)]
pub struct Carts {
    pool: Pool,
    redis: Redis,
    ttl_secs: u64,
    dirty: Arc<Mutex<HashSet<u64>>>,
}

impl Carts {
    pub fn new(pool: Pool, redis: Redis, ttl_secs: u64) -> Self {
        Self {
            pool,
            redis,
            ttl_secs,
            dirty: Arc::default(),
        }
    }

    fn key(&self, user_id: u64) -> String {
        self.redis.key(&format!("cart:{user_id}"))
    }

    /// True when the cache may be used (no invalidation is outstanding).
    async fn cache_usable(&self) -> bool {
        let pending: Vec<u64> = match self.dirty.lock() {
            Ok(d) => d.iter().copied().collect(),
            Err(_) => return false,
        };
        for user_id in pending {
            if self.redis.delete(&self.key(user_id)).await.is_err() {
                return false;
            }
            if let Ok(mut d) = self.dirty.lock() {
                d.remove(&user_id);
            }
        }
        true
    }

    async fn invalidate(&self, user_id: u64) {
        if let Err(e) = self.redis.delete(&self.key(user_id)).await {
            tracing::warn!(error = %e, "cannot invalidate a cached cart; bypassing the cache until Redis answers");
            if let Ok(mut d) = self.dirty.lock() {
                d.insert(user_id);
            }
        }
    }

    #[instrument(skip_all, fields(user_id))]
    pub async fn lines(&self, user_id: u64) -> Result<Vec<Line>, mysql_async::Error> {
        let use_cache = self.cache_usable().await;
        if use_cache {
            if let Some(lines) = self.redis.get_json::<Vec<Line>>(&self.key(user_id)).await {
                return Ok(lines);
            }
        }
        let mut conn = mall_store::db::conn(&self.pool).await?;
        let rows: Vec<(u64, u32)> = conn
            .exec(
                "SELECT product_id, quantity FROM cart_items WHERE user_id = ? ORDER BY created_at, product_id",
                (user_id,),
            )
            .await?;
        let lines: Vec<Line> = rows
            .into_iter()
            .map(|(product_id, quantity)| Line {
                product_id,
                quantity,
            })
            .collect();
        if use_cache {
            self.redis
                .set_json(&self.key(user_id), &lines, self.ttl_secs)
                .await;
        }
        Ok(lines)
    }

    /// Sets a line's quantity (adds the line when the product is new to the cart). One
    /// statement; the cart's size limit is checked by the caller against the lines it has
    /// just read (a guard inside the statement, an INSERT ... SELECT over the user's lines,
    /// took shared next-key locks that deadlocked with other shoppers' inserts under load).
    #[instrument(skip_all, fields(user_id, product_id))]
    pub async fn set(
        &self,
        user_id: u64,
        product_id: u64,
        q: Quantity,
    ) -> Result<(), mysql_async::Error> {
        let mut conn = mall_store::db::conn(&self.pool).await?;
        let now = mall_runtime::time::now_naive();
        conn.exec_drop(
            "INSERT INTO cart_items (user_id, product_id, quantity, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON DUPLICATE KEY UPDATE quantity = VALUES(quantity), updated_at = VALUES(updated_at)",
            (user_id, product_id, q.get(), now, now),
        )
        .await?;
        drop(conn);
        self.invalidate(user_id).await;
        Ok(())
    }

    #[instrument(skip_all, fields(user_id, product_id))]
    pub async fn remove(&self, user_id: u64, product_id: u64) -> Result<(), mysql_async::Error> {
        let mut conn = mall_store::db::conn(&self.pool).await?;
        conn.exec_drop(
            "DELETE FROM cart_items WHERE user_id = ? AND product_id = ?",
            (user_id, product_id),
        )
        .await?;
        drop(conn);
        self.invalidate(user_id).await;
        Ok(())
    }

    #[instrument(skip_all, fields(user_id))]
    pub async fn clear(&self, user_id: u64) -> Result<(), mysql_async::Error> {
        let mut conn = mall_store::db::conn(&self.pool).await?;
        conn.exec_drop("DELETE FROM cart_items WHERE user_id = ?", (user_id,))
            .await?;
        drop(conn);
        self.invalidate(user_id).await;
        Ok(())
    }
}
