//! The product service as the cart sees it: current name, price and currency of live
//! products, from a copy of the prices in this process's memory.
//!
//! Every cart view, line set and cart checkout needs its products' prices; asking
//! the product service each time was an HTTP round trip per call (docs/performance.md).
//! The copy holds each product's price (or that there is no such live product) under the
//! epoch it was read in. It is kept current the way the product processes keep their own
//! caches: the catalog's change feed ([`mall_contracts::catalog_changes`]) announces every admin
//! write, which moves the epoch, so nothing read before it is served after it; stock
//! changes leave prices alone.
//!
//! - The copy is used only while subscribed to the feed; meanwhile every lookup asks the
//!   product service, as before. A new subscription drops the copy (what was announced
//!   while away was missed).
//! - What the copy lacks is asked of the product service with `Cache-Control: no-cache`,
//!   so it comes from the database, never from a product process's cache that has not yet
//!   heard of a change this process has; an answer that does not say it was read from the
//!   database (a product build before that header) is used but not kept.
//! - A value read under an epoch is kept under that epoch, so a change heard while it was
//!   being read makes it dead at once; an entry lives at most [`COPY_TTL`] (a change no
//!   process announced, such as a manual fix in MySQL, shows after that at the latest).
//! - A change shows here once this process hears it: the writer publishes it before it
//!   answers the admin, and the message arrives within a millisecond or so; that is the
//!   same promise the other product slot's cache keeps during a blue/green switch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mall_contracts::catalog_changes::{self as changes, Change};
use mall_contracts::product::{Price, ProductClient};
use mall_contracts::{ServiceClient, Target};
use mall_store::cache::Redis;
use mall_store::feed::{self, Listener};
use prometheus::IntCounter;

/// A product's name, price and currency, as the catalog's price lookup answers them.
pub use mall_contracts::product::Price as CatalogProduct;

/// How long a copied price may be kept (the product service's own cache keeps its
/// entries as long by default).
pub const COPY_TTL: Duration = Duration::from_secs(60);
/// Most products copied; the least used go first.
const MAX_COPIED: u64 = 100_000;

/// The product client with the copy in front of it (cheap to clone: one copy per process).
#[derive(Clone)]
pub struct Catalog {
    client: ProductClient,
    copy: Arc<Copy>,
}

/// A product as copied: `None` when there is no such live product.
#[derive(Clone)]
struct Copied {
    epoch: u64,
    price: Option<Price>,
}

struct Copy {
    /// Moved by every admin change heard and every new subscription.
    epoch: AtomicU64,
    /// Following the feed now (the copy may be used).
    subscribed: AtomicBool,
    entries: moka::sync::Cache<u64, Copied>,
    hits: IntCounter,
    misses: IntCounter,
}

impl Catalog {
    /// The catalog at `target` (PRODUCT_URL: one URL, or both slots' with SLOT_MARKERS).
    /// Registers the copy's hit and miss counters on `registry`; the copy is used once
    /// [`follow`](Self::follow) has subscribed.
    pub fn new(target: Target, registry: &prometheus::Registry) -> anyhow::Result<Self> {
        let client = ProductClient::new(ServiceClient::to(target, Duration::from_secs(3))?);
        let hits = IntCounter::new(
            "cart_price_copy_hits_total",
            "product prices found in the cart's copy",
        )?;
        let misses = IntCounter::new(
            "cart_price_copy_misses_total",
            "product prices the cart's copy lacked (asked of the product service)",
        )?;
        for counter in [&hits, &misses] {
            registry.register(Box::new(counter.clone()))?;
        }
        Ok(Self {
            client,
            copy: Arc::new(Copy {
                epoch: AtomicU64::new(0),
                subscribed: AtomicBool::new(false),
                entries: moka::sync::Cache::builder()
                    .max_capacity(MAX_COPIED)
                    .time_to_live(COPY_TTL)
                    .build(),
                hits,
                misses,
            }),
        })
    }

    /// Name, price and currency of the live products among `ids`, by id (deleted or
    /// unknown ids are simply absent).
    pub async fn prices(&self, ids: &[u64]) -> anyhow::Result<HashMap<u64, Price>> {
        if !self.copy.subscribed.load(Ordering::Acquire) {
            return Ok(by_id(self.client.prices(ids).await?));
        }
        let epoch = self.copy.epoch.load(Ordering::Acquire);
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for &id in ids {
            if found.contains_key(&id) || missing.contains(&id) {
                continue;
            }
            match self.copy.entries.get(&id) {
                Some(c) if c.epoch == epoch => {
                    if let Some(p) = c.price {
                        found.insert(id, p);
                    }
                }
                _ => missing.push(id),
            }
        }
        self.copy.hits.inc_by(found.len() as u64);
        self.copy.misses.inc_by(missing.len() as u64);
        if missing.is_empty() {
            return Ok(found);
        }
        let (read, fresh) = self.client.fresh_prices(&missing).await?;
        let read = by_id(read);
        if fresh {
            for id in missing {
                let price = read.get(&id).cloned();
                self.copy.entries.insert(id, Copied { epoch, price });
            }
        }
        found.extend(read);
        Ok(found)
    }

    /// Follows the catalog's change feed while the service runs.
    pub async fn follow(self, redis: Redis) {
        let channel = redis.key(changes::CHANNEL);
        feed::follow(redis, channel, "cart prices", self).await
    }

    /// Waits up to `limit` for the first subscription.
    pub async fn wait_subscribed(&self, limit: Duration) {
        feed::wait_until(limit, || self.copy.subscribed.load(Ordering::Acquire)).await
    }
}

impl Copy {
    /// Everything copied is dead.
    fn drop_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }
}

impl Listener for Catalog {
    fn subscribed(&self) {
        self.copy.drop_all();
        self.copy.subscribed.store(true, Ordering::Release);
    }

    fn lost(&self) -> bool {
        self.copy.subscribed.swap(false, Ordering::AcqRel)
    }

    fn message(&self, payload: &[u8]) {
        match changes::parse(payload) {
            // Stock changes leave names and prices alone.
            Some((_, Change::Stock(_))) => {}
            Some((_, Change::All)) => self.copy.drop_all(),
            None => {
                tracing::warn!("unreadable catalog change message; dropping the price copy");
                self.copy.drop_all();
            }
        }
    }
}

fn by_id(prices: Vec<Price>) -> HashMap<u64, Price> {
    prices.into_iter().map(|p| (p.id, p)).collect()
}
