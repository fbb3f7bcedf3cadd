//! The cache's memory, in this process: entries (rendered pages) under the epoch they were
//! loaded in, and each product's stock under its own generation.
//!
//! Both tiers are invalidated the same way the Redis tiers were: the epoch moves on an
//! admin write (every entry is dead at once), a product's generation on a change of its
//! stock (only that stock is dead). A value read from MySQL is stored only if neither moved
//! since before the read, so a change that read missed is never hidden by it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::template::Template;

/// A cached entry: the epoch it was loaded in and its rendered form.
pub(super) struct Entry {
    pub(super) epoch: u64,
    pub(super) template: Template,
}

/// One product's stock tier: its generation, and its stock as read under it (with when).
#[derive(Clone, Copy, Default)]
struct Slot {
    generation: u64,
    stock: Option<(i64, Instant)>,
}

/// What a reader saw of a product's stock before it read MySQL: where a stock read then
/// may be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Seen {
    pub(super) id: u64,
    epoch: u64,
    generation: u64,
}

#[derive(Default)]
struct Stocks {
    epoch: u64,
    slots: HashMap<u64, Slot>,
}

pub(super) struct Local {
    /// The epoch and every product's stock tier, under one lock held only for map work.
    stocks: Mutex<Stocks>,
    entries: moka::sync::Cache<String, Arc<Entry>>,
    /// How long an entry or a stock may be kept (a change no process announced, such as a
    /// manual fix in MySQL, shows after this at the latest).
    ttl: Duration,
}

/// Most entries kept (list and search pages, product pages); the least used go first.
const MAX_ENTRIES: u64 = 20_000;
/// Most product stock tiers kept before they are all dropped at once (each is a few bytes;
/// the demo catalog has 50 products).
const MAX_STOCKS: usize = 200_000;

impl Local {
    pub(super) fn new(ttl: Duration) -> Self {
        Self {
            stocks: Mutex::new(Stocks::default()),
            entries: moka::sync::Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl)
                .build(),
            ttl,
        }
    }

    fn stocks(&self) -> MutexGuard<'_, Stocks> {
        self.stocks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live epoch: read before a load, it is what the loaded entry is stored under.
    pub(super) fn epoch(&self) -> u64 {
        self.stocks().epoch
    }

    /// Everything cached is dead: a new epoch, no stock kept.
    pub(super) fn flush(&self) {
        let mut stocks = self.stocks();
        stocks.epoch += 1;
        stocks.slots.clear();
        self.entries.invalidate_all();
    }

    /// The stocks of `ids` are dead.
    pub(super) fn bump(&self, ids: &[u64]) {
        let mut stocks = self.stocks();
        if stocks.slots.len() + ids.len() > MAX_STOCKS {
            // Dropping every slot would let a reader store a stock read before a bump
            // under a generation that restarts at 0: move the epoch too.
            stocks.epoch += 1;
            stocks.slots.clear();
            return;
        }
        for &id in ids {
            let slot = stocks.slots.entry(id).or_default();
            slot.generation += 1;
            slot.stock = None;
        }
    }

    /// The entry `name`, if it was stored in the live epoch.
    pub(super) fn entry(&self, name: &str) -> Option<Arc<Entry>> {
        let entry = self.entries.get(name)?;
        (entry.epoch == self.epoch()).then_some(entry)
    }

    /// Stores `template` as the entry `name`, loaded in `epoch`; nothing when the epoch
    /// has moved since (the value may predate the change that moved it).
    pub(super) fn store(&self, name: &str, epoch: u64, template: Template) {
        if epoch == self.epoch() {
            self.entries
                .insert(name.to_owned(), Arc::new(Entry { epoch, template }));
        }
    }

    /// For each of `ids`, its cached stock, or what the reader saw before reading MySQL.
    pub(super) fn stocks_of(&self, ids: &[u64]) -> Vec<Result<i64, Seen>> {
        let stocks = self.stocks();
        let now = Instant::now();
        ids.iter()
            .map(|&id| {
                let slot = stocks.slots.get(&id).copied().unwrap_or_default();
                let fresh = slot
                    .stock
                    .filter(|(_, at)| now.saturating_duration_since(*at) < self.ttl);
                fresh.map(|(stock, _)| stock).ok_or(Seen {
                    id,
                    epoch: stocks.epoch,
                    generation: slot.generation,
                })
            })
            .collect()
    }

    /// Stores a stock read from MySQL after `seen`, unless it has been bumped since.
    pub(super) fn store_stock(&self, seen: Seen, stock: i64) {
        let mut stocks = self.stocks();
        if stocks.epoch != seen.epoch {
            return;
        }
        let slot = stocks.slots.entry(seen.id).or_default();
        if slot.generation == seen.generation {
            slot.stock = Some((stock, Instant::now()));
        }
    }
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
