//! Entries that show stock: their layout (the ids of the products shown, then the value),
//! the one-round-trip lookup of such entries with the stock tier under them, and the two
//! readers of it (catalog pages and the internal batch lookup).

mod layout;
mod value;

use std::collections::HashMap;
use std::future::Future;

use mysql_async::Pool;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{CatalogCache, GENERATION};
use crate::storage::products::{self, Product};
use layout::{decode, encode, Found, Hit, StockSlot};

pub use value::Stocked;

/// KEYS[1]: the global generation (missing = 0). ARGV[1]: the catalog key prefix
/// (`{prefix}catalog:`). ARGV[2..]: entry names. Answers the generation and, for each
/// name, `{entry, stock generations, stocks}`: the entry stored under
/// `catalog:{gen}:stocked:{name}` (nil when there is none) and, for each product id in its
/// head, the product's stock generation (missing = 0) and the stock cached under it (nil
/// when there is none). The entry and stock keys are built here rather than passed in
/// because they depend on the generations just read; the ids parsed here are the ones the
/// service parses from the same head (see [`decode`]).
pub(super) const LOOKUP: &str = r"
local gen = redis.call('GET', KEYS[1]) or '0'
local base = ARGV[1] .. gen .. ':'
local found = {}
for i = 2, #ARGV do
  local entry = redis.call('GET', base .. 'stocked:' .. ARGV[i])
  local gens, stocks = {}, {}
  local head = entry and string.match(entry, '^([%d,]*)\n')
  if head then
    for id in string.gmatch(head, '%d+') do
      local pgen = redis.call('GET', ARGV[1] .. 'pstock:' .. id) or '0'
      gens[#gens + 1] = pgen
      stocks[#stocks + 1] = redis.call('GET', base .. 'stock:' .. id .. ':' .. pgen)
    end
  end
  found[#found + 1] = {entry, gens, stocks}
end
return {gen, found}
";

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

impl CatalogCache {
    /// The live generation and what is stored for each of the stocked entries `names`,
    /// with the stock tier under them (one round trip), or `None` when the cache must not
    /// be used now.
    async fn lookup_stocked(&self, names: &[String]) -> Option<(u64, Vec<Found>)> {
        if !self.usable().await {
            return None;
        }
        let mut lookup = self.stocked_lookup.prepare_invoke();
        lookup
            .key(self.redis.key(GENERATION))
            .arg(self.redis.key("catalog:"));
        for name in names {
            lookup.arg(name);
        }
        let mut conn = self.redis.conn();
        match lookup.invoke_async::<(u64, Vec<Found>)>(&mut conn).await {
            Ok((generation, found)) if found.len() == names.len() => Some((generation, found)),
            Ok(_) => {
                tracing::warn!("unexpected cache answer; reading from the database");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "cache unavailable; reading from the database");
                None
            }
        }
    }

    /// Queues the store of the stocked entry `name` (showing the products `ids`) under
    /// `generation`.
    fn store_stocked<T: Serialize + ?Sized>(
        &self,
        writes: &mut redis::Pipeline,
        generation: u64,
        name: &str,
        ids: &[u64],
        value: &T,
    ) {
        if let Some(bytes) = encode(ids, value) {
            writes
                .set_ex(
                    self.key(generation, &format!("stocked:{name}")),
                    bytes,
                    self.ttl_secs,
                )
                .ignore();
        }
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
        let Some((generation, found)) = self.lookup_stocked(&[name.to_owned()]).await else {
            return load.await;
        };
        let mut writes = redis::pipe();
        let hit = found.into_iter().next().and_then(decode::<T>);
        let value = if let Some(Hit { mut value, stocks }) = hit {
            self.hits.inc();
            for (id, stock) in self
                .current_stocks(pool, generation, stocks, &mut writes)
                .await?
            {
                value.set_stock(id, stock);
            }
            value
        } else {
            self.misses.inc();
            let value = load.await?;
            self.store_stocked(&mut writes, generation, name, &value.ids(), &value);
            value
        };
        self.write(writes).await;
        Ok(value)
    }

    /// The current stock of the products of a hit: those found in the stock tier as
    /// found, the rest from MySQL (one query; products that no longer exist are left out),
    /// queued in `writes` for the stock tier.
    async fn current_stocks(
        &self,
        pool: &Pool,
        generation: u64,
        slots: Vec<StockSlot>,
        writes: &mut redis::Pipeline,
    ) -> Result<HashMap<u64, i64>, mysql_async::Error> {
        let mut stocks = HashMap::with_capacity(slots.len());
        let mut missing = Vec::new();
        for slot in slots {
            match slot.cached {
                Some(stock) => {
                    stocks.insert(slot.id, stock);
                }
                None => missing.push(slot),
            }
        }
        self.stock_hits.inc_by(stocks.len() as u64);
        self.stock_misses.inc_by(missing.len() as u64);
        if missing.is_empty() {
            return Ok(stocks);
        }
        let missing_ids: Vec<u64> = missing.iter().map(|slot| slot.id).collect();
        let loaded = products::stocks(pool, &missing_ids).await?;
        // Race-free: each stock is stored under the stock generation the lookup read
        // *before* MySQL was read. A writer commits first and bumps that generation after,
        // so a change this read missed was committed after it, and so bumped after that
        // generation was read: the value lands under a generation no reader asks for any
        // more. (An admin write or a recovery bumps the global generation in the key, with
        // the same effect.)
        let prefix = self.key(generation, "stock:");
        for slot in missing {
            if let Some(&stock) = loaded.get(&slot.id) {
                writes
                    .set_ex(
                        format!("{prefix}{}:{}", slot.id, slot.generation),
                        stock,
                        self.ttl_secs,
                    )
                    .ignore();
                stocks.insert(slot.id, stock);
            }
        }
        Ok(stocks)
    }

    /// The products `ids` that exist and are not deleted, in the order asked (the internal
    /// batch lookup behind every cart view and checkout). Each comes from its detail entry
    /// (`product:{id}`, the one `GET /api/products/{id}` fills) with its current stock
    /// overlaid, all in one lookup; the ones not cached come from MySQL in one query and
    /// are cached as detail entries. Without the cache: MySQL.
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
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = ids.iter().map(|&id| detail_name(id)).collect();
        let Some((generation, entries)) = self.lookup_stocked(&names).await else {
            return Ok(in_order(products::find_many(pool, ids).await?, ids));
        };
        let mut found = Vec::with_capacity(ids.len());
        let mut slots = Vec::new();
        let mut missing = Vec::new();
        for (&id, entry) in ids.iter().zip(entries) {
            match decode::<Option<Product>>(entry) {
                Some(hit) => {
                    self.hits.inc();
                    found.extend(hit.value);
                    slots.extend(hit.stocks);
                }
                None => {
                    self.misses.inc();
                    missing.push(id);
                }
            }
        }
        let mut writes = redis::pipe();
        for (id, stock) in self
            .current_stocks(pool, generation, slots, &mut writes)
            .await?
        {
            found.set_stock(id, stock);
        }
        if !missing.is_empty() {
            let loaded = products::find_many(pool, &missing).await?;
            for id in missing {
                let product = loaded.iter().find(|p| p.id == id);
                let shown: Vec<u64> = product.iter().map(|p| p.id).collect();
                self.store_stocked(&mut writes, generation, &detail_name(id), &shown, &product);
            }
            found.extend(loaded);
        }
        self.write(writes).await;
        Ok(in_order(found, ids))
    }
}

#[cfg(test)]
mod tests;
