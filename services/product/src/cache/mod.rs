//! The catalog read cache, in two tiers.
//!
//! Entries (product pages, list and search pages, categories) live in Redis under a global
//! generation (`catalog:gen`) that every admin write bumps, so one INCR invalidates
//! everything such a write could have changed (a price shows in lists and in detail at once).
//!
//! Stock moves far more often: every checkout reserves, every cancelled order releases. So
//! an order's stock change does not touch the global generation; it bumps only the stock
//! generation of each product it changed (`catalog:pstock:{id}`), and the stock inside a
//! cached entry is never trusted on a hit: it is overlaid from the stock tier,
//! `catalog:{gen}:stock:{id}:{pgen}`. What is not cached there comes from MySQL in one
//! query, then is cached under the stock generation read *before* MySQL was, so a change
//! that read missed (committed, then bumped, after it) is never hidden by it. A value just
//! loaded from MySQL on a miss has fresh stock and needs no overlay.
//!
//! So that a hit is one round trip, an entry that shows stock (a product page, a list page;
//! the batch lookup shares the product pages' entries) carries the ids of the products it
//! shows: it is stored under `catalog:{gen}:stocked:{name}` as those ids (decimal,
//! comma-separated), a newline, then the JSON value. One script reads the generation, the
//! entry, and for each id in its head the stock generation and the stock cached under it
//! (several entries at once for the batch lookup). The `stocked:` key came with this
//! layout: older builds kept bare JSON under `catalog:{gen}:{name}`, which this one never
//! reads for such entries (both may run during a rolling deploy), and a value without the
//! head is a miss. Entries that show no stock (categories) are bare JSON under
//! `catalog:{gen}:{name}`, read with the generation in one round trip too.
//!
//! If any bump cannot reach Redis, the cache is bypassed until a later global bump
//! succeeds, so an entry written before an outage is never served after it.

mod stocked;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mall_store::cache::Redis;
use prometheus::IntCounter;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use stocked::detail_name;

const GENERATION: &str = "catalog:gen";

/// The live global generation (KEYS[1]; missing = 0) and the entry stored under it
/// (ARGV[1] .. generation .. ARGV[2]), in one round trip instead of two: a catalog read
/// needs the generation only to build its entry's key.
const ENTRY_LOOKUP: &str = r"
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. gen .. ARGV[2])}
";

#[derive(Clone)]
pub struct CatalogCache {
    redis: Redis,
    ttl_secs: u64,
    stale: Arc<AtomicBool>,
    hits: IntCounter,
    misses: IntCounter,
    stock_hits: IntCounter,
    stock_misses: IntCounter,
    entry_lookup: redis::Script,
    stocked_lookup: redis::Script,
    enabled: bool,
}

impl CatalogCache {
    /// Also registers the hit and miss counters on the service's registry.
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
            redis,
            ttl_secs,
            stale: Arc::new(AtomicBool::new(false)),
            hits,
            misses,
            stock_hits,
            stock_misses,
            entry_lookup: redis::Script::new(ENTRY_LOOKUP),
            stocked_lookup: redis::Script::new(stocked::LOOKUP),
            enabled,
        })
    }

    /// False when the cache must not be used now: turned off, or an invalidation is
    /// outstanding and still cannot reach Redis.
    async fn usable(&self) -> bool {
        if !self.enabled {
            return false;
        }
        if self.stale.load(Ordering::Acquire) {
            self.invalidate().await;
            return !self.stale.load(Ordering::Acquire);
        }
        true
    }

    /// The live generation and the entry `name` stored under it (one round trip), or
    /// `None` when the cache must not be used now.
    async fn generation_and_entry(&self, name: &str) -> Option<(u64, Option<Vec<u8>>)> {
        if !self.usable().await {
            return None;
        }
        let mut lookup = self.entry_lookup.prepare_invoke();
        lookup
            .key(self.redis.key(GENERATION))
            .arg(self.redis.key("catalog:"))
            .arg(format!(":{name}"));
        let mut conn = self.redis.conn();
        match lookup
            .invoke_async::<(u64, Option<Vec<u8>>)>(&mut conn)
            .await
        {
            Ok(found) => Some(found),
            Err(e) => {
                tracing::warn!(error = %e, "cache unavailable; reading from the database");
                None
            }
        }
    }

    fn key(&self, generation: u64, name: &str) -> String {
        self.redis.key(&format!("catalog:{generation}:{name}"))
    }

    fn stock_generation_key(&self, id: u64) -> String {
        self.redis.key(&format!("catalog:pstock:{id}"))
    }

    /// The cached value of `name`, or `load()` (stored for next time). For values that
    /// show no stock; those that do go through
    /// [`get_or_load_stocked`](Self::get_or_load_stocked).
    pub async fn get_or_load<T, E, F>(&self, name: &str, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        let Some((generation, entry)) = self.generation_and_entry(name).await else {
            return load.await;
        };
        if let Some(hit) = entry.and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok()) {
            self.hits.inc();
            return Ok(hit);
        }
        self.misses.inc();
        let value = load.await?;
        self.redis
            .set_json(&self.key(generation, name), &value, self.ttl_secs)
            .await;
        Ok(value)
    }

    /// Sends the cache writes queued in `writes` (one round trip; none when empty).
    async fn write(&self, writes: redis::Pipeline) {
        if writes.is_empty() {
            return;
        }
        let mut conn = self.redis.conn();
        if let Err(e) = writes.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "cache write failed");
        }
    }

    /// After every admin write: a new generation (or, if Redis is away, bypass until one).
    pub async fn invalidate(&self) {
        match self.redis.bump_generation(GENERATION).await {
            Ok(()) => self.stale.store(false, Ordering::Release),
            Err(e) => {
                tracing::warn!(error = %e, "cannot invalidate the catalog cache; bypassing it until Redis answers");
                self.stale.store(true, Ordering::Release);
            }
        }
    }

    /// After an order's stock change has committed: a new stock generation for each of
    /// `ids`, and nothing else. If Redis is away, a cached stock could be served stale, so
    /// the cache is bypassed as after a failed [`invalidate`](Self::invalidate).
    pub async fn stock_changed(&self, ids: &[u64]) {
        if ids.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for &id in ids {
            pipe.incr(self.stock_generation_key(id), 1).ignore();
        }
        let mut conn = self.redis.conn();
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "cannot invalidate cached stock; bypassing the catalog cache until Redis answers");
            self.stale.store(true, Ordering::Release);
        }
    }
}
