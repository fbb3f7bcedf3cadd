//! Entries that show stock: catalog pages and the internal batch lookup, each rendered from
//! its template with the current stock of every product it shows.

mod value;

use std::collections::HashMap;
use std::future::Future;

use mysql_async::Pool;
use serde::Serialize;

use super::local::Seen;
use super::template::Template;
use super::{distinct, to_json, CatalogCache};
use crate::error::ProductError;
use crate::storage::products::{self, Product};

pub use value::Stocked;

/// The cache name of a product's detail entry (an `Option<Product>`: `None` when there is
/// no such product, or it is deleted).
pub fn detail_name(id: u64) -> String {
    format!("product:{id}")
}

/// `products` in the order of `ids` (which holds each of them once): MySQL answers an
/// `IN (…)` in its own order.
pub(super) fn in_order(mut products: Vec<Product>, ids: &[u64]) -> Vec<Product> {
    products.sort_by_key(|p| ids.iter().position(|&id| id == p.id));
    products
}

impl CatalogCache {
    /// Like [`plain`](Self::plain) for a value that shows stock: on a hit, the current
    /// stock of each of its products is put in.
    pub async fn stocked<T, F>(
        &self,
        pool: &Pool,
        name: &str,
        load: F,
    ) -> Result<Vec<u8>, ProductError>
    where
        T: Serialize + Stocked,
        F: Future<Output = Result<T, ProductError>>,
    {
        if !self.usable().await {
            return to_json(&load.await?);
        }
        let epoch = self.local.epoch();
        if let Some(entry) = self.local.entry(name) {
            self.hits.inc();
            if let Some(stocks) = self.current_stocks(pool, entry.template.ids()).await? {
                let mut out = Vec::with_capacity(entry.template.len_hint());
                entry.template.render_into(&stocks, &mut out);
                return Ok(out);
            }
        } else {
            self.misses.inc();
        }
        // A miss, or a hit showing a product MySQL no longer has: loaded afresh, with
        // fresh stock.
        let value = load.await?;
        let json = to_json(&value)?;
        if let Some(template) = Template::stocked(value) {
            self.local.store(name, epoch, template);
        }
        Ok(json)
    }

    /// The current stock of each of `ids`, in order: cached, or from MySQL (one query, then
    /// cached); `None` if MySQL has no row for one of them.
    async fn current_stocks(
        &self,
        pool: &Pool,
        ids: &[u64],
    ) -> Result<Option<Vec<i64>>, mysql_async::Error> {
        let found = self.local.stocks_of(ids);
        let missing: Vec<Seen> = found.iter().filter_map(|f| f.err()).collect();
        self.stock_hits.inc_by((ids.len() - missing.len()) as u64);
        self.stock_misses.inc_by(missing.len() as u64);
        if missing.is_empty() {
            return Ok(found.into_iter().map(Result::ok).collect());
        }
        let missing_ids: Vec<u64> = missing.iter().map(|seen| seen.id).collect();
        let loaded = products::stocks(pool, &missing_ids).await?;
        for seen in missing {
            if let Some(&stock) = loaded.get(&seen.id) {
                self.local.store_stock(seen, stock);
            }
        }
        Ok(found
            .into_iter()
            .map(|f| {
                f.ok()
                    .or_else(|| f.err().and_then(|s| loaded.get(&s.id).copied()))
            })
            .collect())
    }

    /// The products `ids` that exist and are not deleted, in the order asked, as a JSON
    /// array (the internal batch lookup behind every cart view and checkout). Each comes
    /// from its detail entry (`product:{id}`, the one `GET /api/products/{id}` fills) with
    /// its current stock; the ones not cached come from MySQL in one query and are cached
    /// as detail entries. Without the cache: MySQL.
    pub async fn products(&self, pool: &Pool, ids: &[u64]) -> Result<Vec<u8>, ProductError> {
        let unique = distinct(ids);
        let ids = unique.as_slice();
        if ids.is_empty() || !self.usable().await {
            return to_json(&in_order(products::find_many(pool, ids).await?, ids));
        }
        let epoch = self.local.epoch();
        let entries: Vec<_> = ids
            .iter()
            .map(|&id| self.local.entry(&detail_name(id)))
            .collect();
        let cached = entries.iter().flatten().count();
        self.hits.inc_by(cached as u64);
        self.misses.inc_by((ids.len() - cached) as u64);
        let shown: Vec<u64> = entries
            .iter()
            .flatten()
            .flat_map(|e| e.template.ids().iter().copied())
            .collect();
        let Some(stocks) = self.current_stocks(pool, &shown).await? else {
            return to_json(&in_order(products::find_many(pool, ids).await?, ids));
        };
        let missing: Vec<u64> = ids
            .iter()
            .zip(&entries)
            .filter(|(_, e)| e.is_none())
            .map(|(&id, _)| id)
            .collect();
        let mut loaded: HashMap<u64, Product> = HashMap::new();
        if !missing.is_empty() {
            for product in products::find_many(pool, &missing).await? {
                loaded.insert(product.id, product);
            }
            for &id in &missing {
                if let Some(template) = Template::stocked(loaded.get(&id).cloned()) {
                    self.local.store(&detail_name(id), epoch, template);
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len() * 512);
        out.push(b'[');
        let mut stocks = stocks.as_slice();
        for (id, entry) in ids.iter().zip(&entries) {
            let start = out.len();
            if out.len() > 1 {
                out.push(b',');
            }
            match entry {
                Some(entry) if !entry.template.is_null() => {
                    let (own, rest) = stocks.split_at(entry.template.ids().len().min(stocks.len()));
                    entry.template.render_into(own, &mut out);
                    stocks = rest;
                }
                Some(_) => out.truncate(start),
                None => match loaded.get(id) {
                    Some(product) => out.extend_from_slice(&to_json(product)?),
                    None => out.truncate(start),
                },
            }
        }
        out.push(b']');
        Ok(out)
    }
}
