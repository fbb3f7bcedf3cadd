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
//! `catalog:{gen}:stock:{id}:{pgen}` (one Redis round trip for every product of a response;
//! what is not cached there comes from MySQL in one query, then is cached). A value just
//! loaded from MySQL on a miss has fresh stock and needs no overlay.
//!
//! If any bump cannot reach Redis, the cache is bypassed until a later global bump
//! succeeds, so an entry written before an outage is never served after it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mall_common::cache::Redis;
use mall_common::http::PageOf;
use mysql_async::Pool;
use prometheus::IntCounter;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::storage::products::{self, Product};

const GENERATION: &str = "catalog:gen";

/// For each product (KEYS: its stock generation key; ARGV[1]: the stock key prefix of the
/// live global generation; ARGV[i + 1]: its id): the stock generation (missing = 0) and the
/// stock cached under it (nil when there is none). The stock keys are built here rather
/// than passed in because they depend on the generation just read.
const STOCK_LOOKUP: &str = r"
local gens, stocks = {}, {}
for i, key in ipairs(KEYS) do
  local gen = redis.call('GET', key) or '0'
  gens[i] = gen
  stocks[i] = redis.call('GET', ARGV[1] .. ARGV[i + 1] .. ':' .. gen)
end
return {gens, stocks}
";

/// The live global generation (KEYS[1]; missing = 0) and the entry stored under it
/// (ARGV[1] .. generation .. ARGV[2]), in one round trip instead of two: a catalog read
/// needs the generation only to build its entry's key.
const ENTRY_LOOKUP: &str = r"
local gen = redis.call('GET', KEYS[1]) or '0'
return {gen, redis.call('GET', ARGV[1] .. gen .. ARGV[2])}
";

/// A cached value that shows products' stock, overlaid on a cache hit.
pub trait Stocked {
    /// The products whose stock the value shows.
    fn ids(&self) -> Vec<u64>;
    /// Sets the stock shown for product `id`.
    fn set_stock(&mut self, id: u64, stock: i64);
}

impl Stocked for Product {
    fn ids(&self) -> Vec<u64> {
        vec![self.id]
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        if self.id == id {
            self.stock = stock;
        }
    }
}

impl<T: Stocked> Stocked for Option<T> {
    fn ids(&self) -> Vec<u64> {
        self.as_ref().map(T::ids).unwrap_or_default()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        if let Some(value) = self {
            value.set_stock(id, stock);
        }
    }
}

impl<T: Stocked> Stocked for Vec<T> {
    fn ids(&self) -> Vec<u64> {
        self.iter().flat_map(T::ids).collect()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        for item in self {
            item.set_stock(id, stock);
        }
    }
}

/// The cache name of a product's detail entry (an `Option<Product>`: `None` when there is
/// no such product, or it is deleted).
pub fn detail_name(id: u64) -> String {
    format!("product:{id}")
}

/// `products` in the order of `ids` (which holds each of them once): MySQL answers an
/// `IN (…)` in its own order, the cache in the order found.
fn in_order(mut products: Vec<Product>, ids: &[u64]) -> Vec<Product> {
    products.sort_by_key(|p| ids.iter().position(|&id| id == p.id));
    products
}

impl<T: Stocked> Stocked for PageOf<T> {
    fn ids(&self) -> Vec<u64> {
        self.items.ids()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        self.items.set_stock(id, stock);
    }
}

#[derive(Clone)]
pub struct CatalogCache {
    redis: Redis,
    ttl_secs: u64,
    stale: Arc<AtomicBool>,
    hits: IntCounter,
    misses: IntCounter,
    stock_hits: IntCounter,
    stock_misses: IntCounter,
    stock_lookup: redis::Script,
    entry_lookup: redis::Script,
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
            stock_lookup: redis::Script::new(STOCK_LOOKUP),
            entry_lookup: redis::Script::new(ENTRY_LOOKUP),
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

    /// The live generation, or `None` when the cache must not be used now.
    async fn generation(&self) -> Option<u64> {
        if !self.usable().await {
            return None;
        }
        self.redis.generation(GENERATION).await
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

    /// The cached value of `name`, or `load()` (stored for next time).
    pub async fn get_or_load<T, E, F>(&self, name: &str, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        Ok(self.cached(name, load).await?.0)
    }

    /// Like [`get_or_load`](Self::get_or_load) for a value that shows stock: on a hit, the
    /// current stock of each of its products is overlaid.
    pub async fn get_or_load_stocked<T, E, F>(
        &self,
        pool: &Pool,
        name: &str,
        load: F,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned + Stocked,
        E: From<mysql_async::Error>,
        F: Future<Output = Result<T, E>>,
    {
        let (mut value, hit) = self.cached(name, load).await?;
        if let Some(generation) = hit {
            for (id, stock) in self.stocks(pool, generation, &value.ids()).await? {
                value.set_stock(id, stock);
            }
        }
        Ok(value)
    }

    /// The value and, when it came from the cache, the generation it was found under.
    async fn cached<T, E, F>(&self, name: &str, load: F) -> Result<(T, Option<u64>), E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        let Some((generation, entry)) = self.generation_and_entry(name).await else {
            return Ok((load.await?, None));
        };
        let key = self.key(generation, name);
        if let Some(hit) = entry.and_then(|bytes| serde_json::from_slice::<T>(&bytes).ok()) {
            self.hits.inc();
            return Ok((hit, Some(generation)));
        }
        self.misses.inc();
        let value = load.await?;
        self.redis.set_json(&key, &value, self.ttl_secs).await;
        Ok((value, None))
    }

    /// The current stock of the products `ids` (those that exist): from the stock tier of
    /// `generation`, the rest from MySQL (then cached); all from MySQL if Redis fails.
    async fn stocks(
        &self,
        pool: &Pool,
        generation: u64,
        ids: &[u64],
    ) -> Result<HashMap<u64, i64>, mysql_async::Error> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let prefix = self.key(generation, "stock:");
        let mut lookup = self.stock_lookup.prepare_invoke();
        lookup.arg(&prefix);
        for &id in ids {
            lookup.key(self.stock_generation_key(id)).arg(id);
        }
        let mut conn = self.redis.conn();
        let found: Result<(Vec<u64>, Vec<Option<i64>>), _> = lookup.invoke_async(&mut conn).await;
        let (generations, cached) = match found {
            Ok((g, c)) if g.len() == ids.len() && c.len() == ids.len() => (g, c),
            Ok(_) => {
                tracing::warn!("unexpected stock cache answer; reading stock from the database");
                return products::stocks(pool, ids).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "stock cache read failed; reading stock from the database");
                return products::stocks(pool, ids).await;
            }
        };
        let mut stocks = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for ((&id, stock_generation), stock) in ids.iter().zip(generations).zip(cached) {
            match stock {
                Some(stock) => {
                    stocks.insert(id, stock);
                }
                None => missing.push((id, stock_generation)),
            }
        }
        self.stock_hits.inc_by(stocks.len() as u64);
        self.stock_misses.inc_by(missing.len() as u64);
        if missing.is_empty() {
            return Ok(stocks);
        }
        let missing_ids: Vec<u64> = missing.iter().map(|&(id, _)| id).collect();
        let loaded = products::stocks(pool, &missing_ids).await?;
        // Race-free: each stock is stored under the stock generation the script read
        // *before* MySQL was read. A writer commits first and bumps that generation after,
        // so a change this read missed was committed after it, and so bumped after that
        // generation was read: the value lands under a generation no reader asks for any
        // more. (An admin write or a recovery bumps the global generation in the prefix,
        // with the same effect.)
        let mut pipe = redis::pipe();
        for (id, stock_generation) in missing {
            if let Some(&stock) = loaded.get(&id) {
                pipe.set_ex(
                    format!("{prefix}{id}:{stock_generation}"),
                    stock,
                    self.ttl_secs,
                )
                .ignore();
                stocks.insert(id, stock);
            }
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "stock cache write failed");
        }
        Ok(stocks)
    }

    /// The products `ids` that exist and are not deleted, in the order asked (the internal
    /// batch lookup behind every cart view and checkout). Each comes from its detail entry
    /// (`product:{id}`, the one `GET /api/products/{id}` fills) with its current stock
    /// overlaid; the ones not cached come from MySQL in one query and are cached as
    /// detail entries. Without the cache: MySQL.
    pub async fn products(
        &self,
        pool: &Pool,
        ids: &[u64],
    ) -> Result<Vec<Product>, mysql_async::Error> {
        let mut unique = Vec::with_capacity(ids.len());
        for &id in ids {
            if !unique.contains(&id) {
                unique.push(id);
            }
        }
        let ids = unique.as_slice();
        let Some(generation) = self.generation().await else {
            return Ok(in_order(products::find_many(pool, ids).await?, ids));
        };
        let keys: Vec<String> = ids
            .iter()
            .map(|id| self.key(generation, &detail_name(*id)))
            .collect();
        let Some(entries) = self.redis.get_many_json::<Option<Product>>(&keys).await else {
            return Ok(in_order(products::find_many(pool, ids).await?, ids));
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for (&id, entry) in ids.iter().zip(entries) {
            match entry {
                Some(product) => {
                    self.hits.inc();
                    found.extend(product);
                }
                None => {
                    self.misses.inc();
                    missing.push(id);
                }
            }
        }
        let cached_ids: Vec<u64> = found.iter().map(|p| p.id).collect();
        for (id, stock) in self.stocks(pool, generation, &cached_ids).await? {
            found.set_stock(id, stock);
        }
        if !missing.is_empty() {
            let loaded = products::find_many(pool, &missing).await?;
            for id in missing {
                let product = loaded.iter().find(|p| p.id == id);
                self.redis
                    .set_json(
                        &self.key(generation, &detail_name(id)),
                        &product,
                        self.ttl_secs,
                    )
                    .await;
            }
            found.extend(loaded);
        }
        Ok(in_order(found, ids))
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
