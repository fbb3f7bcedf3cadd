//! The catalog read cache, in each product process's memory, in two tiers.
//!
//! Entries (product pages, list and search pages, categories) live under an epoch that
//! every admin write moves, so one write invalidates everything it could have changed (a
//! price shows in lists and in detail at once).
//!
//! Stock moves far more often: every checkout reserves, every cancelled order releases. So
//! an order's stock change does not move the epoch; it moves only the stock generation of
//! each product it changed, and the stock inside a cached entry is never trusted: an entry
//! is kept as its JSON cut where each product's stock goes ([`template`]), and a hit puts
//! the current stocks in. A stock not cached comes from MySQL (one query for all of a
//! hit's), and is cached only if its generation did not move meanwhile ([`local`]), so a
//! change that read missed (committed, then bumped, after it) is never hidden by it.
//!
//! A hit asks nothing of Redis. The other product processes (the other slot during a
//! blue/green switch) hear of each change through a Redis channel ([`feed`]); while a
//! process is not subscribed, it reads MySQL. If a change cannot be published, the
//! process reads MySQL until an `all` message gets through, so an entry cached before an
//! outage is never served after it. Each change also moves the Redis generations the
//! builds before this one cached under (`catalog:gen`, `catalog:pstock:{id}`), so a slot
//! of such a build sees this one's changes during a switch.

mod feed;
mod local;
mod prices;
mod stocked;
mod template;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mall_store::cache::Redis;
use prometheus::IntCounter;
use serde::Serialize;

use crate::error::ProductError;
use local::Local;
use mall_contracts::catalog_changes::{self as changes, Change};
use template::Template;

pub use prices::fresh_prices;
pub use stocked::detail_name;

const GENERATION: &str = "catalog:gen";

#[derive(Clone)]
pub struct CatalogCache {
    redis: Redis,
    /// `{prefix}catalog:changes`.
    channel: String,
    /// This process's mark on the messages it publishes.
    origin: u64,
    local: Arc<Local>,
    /// Following the channel now (the cache may be used).
    subscribed: Arc<AtomicBool>,
    /// A change could not be published: the cache is bypassed until an `all` is.
    stale: Arc<AtomicBool>,
    hits: IntCounter,
    misses: IntCounter,
    stock_hits: IntCounter,
    stock_misses: IntCounter,
    enabled: bool,
}

impl CatalogCache {
    /// Also registers the hit and miss counters on the service's registry. The cache is
    /// used once [`follow`](Self::follow) has subscribed.
    pub fn new(
        redis: Redis,
        ttl_secs: u64,
        enabled: bool,
        registry: &prometheus::Registry,
    ) -> anyhow::Result<Self> {
        let hits = IntCounter::new("catalog_cache_hits_total", "catalog cache hits")?;
        let misses = IntCounter::new("catalog_cache_misses_total", "catalog cache misses")?;
        let stock_hits = IntCounter::new(
            "catalog_stock_cache_hits_total",
            "product stocks found in the stock cache on a catalog cache hit",
        )?;
        let stock_misses = IntCounter::new(
            "catalog_stock_cache_misses_total",
            "product stocks read from the database on a catalog cache hit",
        )?;
        for counter in [&hits, &misses, &stock_hits, &stock_misses] {
            registry.register(Box::new(counter.clone()))?;
        }
        Ok(Self {
            channel: redis.key(changes::CHANNEL),
            redis,
            origin: rand_origin(),
            local: Arc::new(Local::new(Duration::from_secs(ttl_secs))),
            subscribed: Arc::new(AtomicBool::new(false)),
            stale: Arc::new(AtomicBool::new(false)),
            hits,
            misses,
            stock_hits,
            stock_misses,
            enabled,
        })
    }

    /// False when the cache must not be used now: turned off, not subscribed, or a change
    /// is still unpublished (tried again here).
    async fn usable(&self) -> bool {
        if !self.enabled || !self.subscribed.load(Ordering::Acquire) {
            return false;
        }
        if self.stale.load(Ordering::Acquire) {
            self.invalidate().await;
            return !self.stale.load(Ordering::Acquire);
        }
        true
    }

    /// The cached JSON of `name`, or `load()`'s (stored for next time). For values that
    /// show no stock; those that do go through [`stocked`](Self::stocked).
    pub async fn plain<T, F>(&self, name: &str, load: F) -> Result<Vec<u8>, ProductError>
    where
        T: Serialize,
        F: Future<Output = Result<T, ProductError>>,
    {
        if !self.usable().await {
            return to_json(&load.await?);
        }
        let epoch = self.local.epoch();
        if let Some(entry) = self.local.entry(name) {
            self.hits.inc();
            let mut out = Vec::with_capacity(entry.template.len_hint());
            entry.template.render_into(&[], &mut out);
            return Ok(out);
        }
        self.misses.inc();
        let value = load.await?;
        if let Some(template) = Template::plain(&value) {
            self.local.store(name, epoch, template);
        }
        to_json(&value)
    }

    /// After every admin write: everything cached is dead, here and (published) in the
    /// other processes; if it cannot be published, bypass until it can.
    pub async fn invalidate(&self) {
        self.local.flush();
        let mut pipe = redis::pipe();
        pipe.incr(self.redis.key(GENERATION), 1).ignore();
        match self.publish(pipe, &Change::All).await {
            Ok(()) => self.stale.store(false, Ordering::Release),
            Err(e) => {
                tracing::warn!(error = %e, "cannot invalidate the catalog cache; bypassing it until Redis answers");
                self.stale.store(true, Ordering::Release);
            }
        }
    }

    /// After an order's stock change has committed: the stock of each of `ids` is dead,
    /// and nothing else. If it cannot be published, a cached stock could be served stale
    /// elsewhere, so the cache is bypassed as after a failed [`invalidate`](Self::invalidate).
    pub async fn stock_changed(&self, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        self.local.bump(ids);
        let mut pipe = redis::pipe();
        for &id in ids {
            pipe.incr(self.redis.key(&format!("catalog:pstock:{id}")), 1)
                .ignore();
        }
        if let Err(e) = self.publish(pipe, &Change::Stock(ids.to_vec())).await {
            tracing::warn!(error = %e, "cannot invalidate cached stock; bypassing the catalog cache until Redis answers");
            self.stale.store(true, Ordering::Release);
        }
    }

    /// Sends `pipe` with the message of `change` at its end (one round trip).
    async fn publish(
        &self,
        mut pipe: redis::Pipeline,
        change: &Change,
    ) -> Result<(), redis::RedisError> {
        pipe.publish(&self.channel, changes::message(self.origin, change))
            .ignore();
        let mut conn = self.redis.conn();
        pipe.query_async::<()>(&mut conn).await
    }
}

/// `ids` each once, in the order of their first appearance.
fn distinct(ids: &[u64]) -> Vec<u64> {
    let mut unique = Vec::with_capacity(ids.len());
    for &id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    unique
}

/// A value as the JSON sent for it.
fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ProductError> {
    serde_json::to_vec(value)
        .map_err(|e| mall_http::error::CommonError::Internal(anyhow::anyhow!(e)).into())
}

/// A number no other process picks (in practice): random.
fn rand_origin() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}
