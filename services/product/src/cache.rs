//! The catalog read cache: product pages, list pages and categories in Redis under a
//! generation number that every write bumps, so one INCR invalidates everything a write
//! could have changed (a price shows in lists and in detail at once). If the bump cannot
//! reach Redis, the cache is bypassed until a later bump succeeds, so an entry written
//! before an outage is never served after it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use mall_common::cache::Redis;
use prometheus::IntCounter;
use serde::de::DeserializeOwned;
use serde::Serialize;

const GENERATION: &str = "catalog:gen";

#[derive(Clone)]
pub struct CatalogCache {
    redis: Redis,
    ttl_secs: u64,
    stale: Arc<AtomicBool>,
    hits: IntCounter,
    misses: IntCounter,
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
        registry.register(Box::new(hits.clone()))?;
        registry.register(Box::new(misses.clone()))?;
        Ok(Self {
            redis,
            ttl_secs,
            stale: Arc::new(AtomicBool::new(false)),
            hits,
            misses,
            enabled,
        })
    }

    /// The live generation, or `None` when the cache must not be used now.
    async fn generation(&self) -> Option<u64> {
        if !self.enabled {
            return None;
        }
        if self.stale.load(Ordering::Acquire) {
            self.invalidate().await;
            if self.stale.load(Ordering::Acquire) {
                return None;
            }
        }
        self.redis.generation(GENERATION).await
    }

    fn key(&self, generation: u64, name: &str) -> String {
        self.redis.key(&format!("catalog:{generation}:{name}"))
    }

    /// The cached value of `name`, or `load()` (stored for next time).
    pub async fn get_or_load<T, E, F>(&self, name: &str, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<T, E>>,
    {
        let Some(generation) = self.generation().await else {
            return load.await;
        };
        let key = self.key(generation, name);
        if let Some(hit) = self.redis.get_json::<T>(&key).await {
            self.hits.inc();
            return Ok(hit);
        }
        self.misses.inc();
        let value = load.await?;
        self.redis.set_json(&key, &value, self.ttl_secs).await;
        Ok(value)
    }

    /// After every write: a new generation (or, if Redis is away, bypass until one).
    pub async fn invalidate(&self) {
        match self.redis.bump_generation(GENERATION).await {
            Ok(()) => self.stale.store(false, Ordering::Release),
            Err(e) => {
                tracing::warn!(error = %e, "cannot invalidate the catalog cache; bypassing it until Redis answers");
                self.stale.store(true, Ordering::Release);
            }
        }
    }
}
