//! Entries that show stock: their layout (the ids of the products shown, then the value),
//! the one-round-trip lookup of such entries with the stock tier under them, and the two
//! readers of it (catalog pages and the internal batch lookup).

use std::collections::HashMap;
use std::future::Future;

use mall_common::http::PageOf;
use mysql_async::Pool;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{CatalogCache, GENERATION};
use crate::storage::products::{self, Product};

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

/// What [`LOOKUP`] answered for one entry: its bytes, then for each id in its head the
/// stock generation and the cached stock.
type Found = (Option<Vec<u8>>, Vec<u64>, Vec<Option<i64>>);

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

impl<T: Stocked> Stocked for PageOf<T> {
    fn ids(&self) -> Vec<u64> {
        self.items.ids()
    }

    fn set_stock(&mut self, id: u64, stock: i64) {
        self.items.set_stock(id, stock);
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

/// The stored form of a stocked entry: `ids` (those of the products `value` shows),
/// comma-separated, a newline, then `value` as JSON (which has no raw newline).
fn encode<T: Serialize + ?Sized>(ids: &[u64], value: &T) -> Option<Vec<u8>> {
    let head: Vec<String> = ids.iter().map(u64::to_string).collect();
    let mut bytes = head.join(",").into_bytes();
    bytes.push(b'\n');
    serde_json::to_writer(&mut bytes, value).ok()?;
    Some(bytes)
}

/// One product's stock as the lookup found it on a hit.
#[derive(Debug, PartialEq, Eq)]
struct StockSlot {
    id: u64,
    /// The product's stock generation, read before MySQL is (see [`CatalogCache::current_stocks`]).
    generation: u64,
    cached: Option<i64>,
}

/// A stocked entry found in the cache: the value and the stock of each product it shows.
struct Hit<T> {
    value: T,
    stocks: Vec<StockSlot>,
}

/// The hit in what the lookup found, or `None` (a miss) when there is no entry, or it is
/// not in this layout (no head, a malformed one, an answer that does not match it) or not
/// a `T`.
fn decode<T: DeserializeOwned>((entry, generations, stocks): Found) -> Option<Hit<T>> {
    let bytes = entry?;
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (head, json) = (&bytes[..newline], &bytes[newline + 1..]);
    if !head.iter().all(|&b| b.is_ascii_digit() || b == b',') {
        return None;
    }
    let ids: Vec<u64> = if head.is_empty() {
        Vec::new()
    } else {
        std::str::from_utf8(head)
            .ok()?
            .split(',')
            .map(|id| id.parse().ok())
            .collect::<Option<_>>()?
    };
    if ids.len() != generations.len() || ids.len() != stocks.len() {
        return None;
    }
    let value = serde_json::from_slice(json).ok()?;
    let stocks = ids
        .into_iter()
        .zip(generations)
        .zip(stocks)
        .map(|((id, generation), cached)| StockSlot {
            id,
            generation,
            cached,
        })
        .collect();
    Some(Hit { value, stocks })
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
mod tests {
    use super::*;

    fn found(entry: &[u8], generations: Vec<u64>, stocks: Vec<Option<i64>>) -> Found {
        (Some(entry.to_vec()), generations, stocks)
    }

    #[test]
    fn an_entry_decodes_as_it_was_encoded_with_its_stocks() {
        let bytes = encode(&[7, 3], &vec![1, 2]).expect("encodes");
        assert_eq!(bytes, b"7,3\n[1,2]");
        let hit = decode::<Vec<u8>>(found(&bytes, vec![4, 0], vec![Some(9), None])).expect("a hit");
        assert_eq!(hit.value, vec![1, 2]);
        assert_eq!(
            hit.stocks,
            [
                StockSlot {
                    id: 7,
                    generation: 4,
                    cached: Some(9)
                },
                StockSlot {
                    id: 3,
                    generation: 0,
                    cached: None
                },
            ]
        );
        let none = encode::<Option<u8>>(&[], &None).expect("encodes");
        assert_eq!(none, b"\nnull");
        let hit = decode::<Option<u8>>(found(&none, vec![], vec![])).expect("a hit");
        assert_eq!((hit.value, hit.stocks), (None, vec![]));
    }

    #[test]
    fn anything_not_in_the_layout_is_a_miss() {
        // Bare JSON, as older builds stored entries.
        assert!(decode::<Option<u8>>(found(b"null", vec![], vec![])).is_none());
        assert!(decode::<Vec<u8>>(found(b"[1,2]", vec![], vec![])).is_none());
        // Heads the lookup script would read otherwise, or not at all.
        for head in [&b"7,,3\n[1]"[..], b"+7\n[1]", b"7 \n[1]", b"7,\n[1]"] {
            assert!(decode::<Vec<u8>>(found(head, vec![0], vec![None])).is_none());
        }
        // An answer that does not match the head, a value of another type, nothing.
        assert!(decode::<Vec<u8>>(found(b"7\n[1]", vec![], vec![])).is_none());
        assert!(decode::<Vec<u8>>(found(b"\n{}", vec![], vec![])).is_none());
        assert!(decode::<Vec<u8>>((None, vec![], vec![])).is_none());
    }
}
