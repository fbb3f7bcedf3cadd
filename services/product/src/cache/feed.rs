//! What the product processes tell each other: a change one of them made (an admin write,
//! an order's stock change) reaches the others' caches, and the cart's copy of the prices,
//! through the Redis channel `{prefix}catalog:changes` (during a blue/green switch both
//! slots serve). The messages are a contract ([`mall_contracts::catalog_changes`]); the
//! subscription's life is [`mall_store::feed`]'s: a process uses its cache only while
//! subscribed, and reads MySQL meanwhile.

use std::sync::atomic::Ordering;
use std::time::Duration;

use mall_contracts::catalog_changes::{parse, Change};
use mall_store::feed::{self, Listener};

use super::CatalogCache;

impl Listener for CatalogCache {
    fn subscribed(&self) {
        self.local.flush();
        self.subscribed.store(true, Ordering::Release);
    }

    fn lost(&self) -> bool {
        self.subscribed.swap(false, Ordering::AcqRel)
    }

    fn message(&self, payload: &[u8]) {
        match parse(payload) {
            Some((origin, _)) if origin == self.origin => {}
            Some((_, Change::All)) => self.local.flush(),
            Some((_, Change::Stock(ids))) => self.local.bump(&ids),
            None => {
                // Something this build cannot read: drop everything to be safe.
                tracing::warn!("unreadable catalog change message; dropping the cache");
                self.local.flush();
            }
        }
    }
}

impl CatalogCache {
    /// Follows the channel forever (returns at once when the cache is off).
    pub async fn follow(self) {
        if !self.enabled {
            return;
        }
        let channel = self.channel.clone();
        let redis = self.redis.clone();
        feed::follow(redis, channel, "catalog", self).await
    }

    /// Waits up to `limit` for the first subscription (so a service answers from its cache
    /// from its first request when Redis is there); without it the service starts anyway.
    pub async fn wait_subscribed(&self, limit: Duration) {
        feed::wait_until(limit, || {
            !self.enabled || self.subscribed.load(Ordering::Acquire)
        })
        .await
    }
}
