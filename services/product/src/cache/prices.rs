//! The price lookup behind every cart view and checkout (`GET /internal/products/prices`):
//! name, price and currency, no stock. Each product's entry (`price:{id}`) lives under the
//! epoch like every entry that shows no stock, so a reservation, which moves only stock,
//! never makes it miss: a product every checkout reserves is answered from memory.

use mall_contracts::product::Price;
use mysql_async::Pool;

use super::stocked::in_order;
use super::template::Template;
use super::{distinct, to_json, CatalogCache};
use crate::error::ProductError;
use crate::storage::products;

/// The cache name of a product's price entry (an `Option<Price>`: `None` when there is no
/// such product, or it is deleted).
fn price_name(id: u64) -> String {
    format!("price:{id}")
}

impl CatalogCache {
    /// The live products among `ids` (each once), in the order asked, as a JSON array of
    /// [`Price`]. The ones not cached come from MySQL in one query and are cached; without
    /// the cache: MySQL.
    pub async fn prices(&self, pool: &Pool, ids: &[u64]) -> Result<Vec<u8>, ProductError> {
        let unique = distinct(ids);
        if unique.is_empty() || !self.usable().await {
            return to_json(&load(pool, &unique).await?);
        }
        let epoch = self.local.epoch();
        let entries: Vec<_> = unique
            .iter()
            .map(|&id| self.local.entry(&price_name(id)))
            .collect();
        let missing: Vec<u64> = unique
            .iter()
            .zip(&entries)
            .filter(|(_, e)| e.is_none())
            .map(|(&id, _)| id)
            .collect();
        self.hits.inc_by((unique.len() - missing.len()) as u64);
        self.misses.inc_by(missing.len() as u64);
        let loaded = load(pool, &missing).await?;
        for &id in &missing {
            let price = loaded.iter().find(|p| p.id == id);
            if let Some(template) = Template::plain(&price) {
                self.local.store(&price_name(id), epoch, template);
            }
        }
        let mut out = Vec::with_capacity(unique.len() * 96);
        out.push(b'[');
        for (id, entry) in unique.iter().zip(&entries) {
            let start = out.len();
            if out.len() > 1 {
                out.push(b',');
            }
            match entry {
                Some(entry) if !entry.template.is_null() => {
                    entry.template.render_into(&[], &mut out)
                }
                Some(_) => out.truncate(start),
                None => match loaded.iter().find(|p| p.id == *id) {
                    Some(price) => out.extend_from_slice(&to_json(price)?),
                    None => out.truncate(start),
                },
            }
        }
        out.push(b']');
        Ok(out)
    }
}

/// [`CatalogCache::prices`] read from MySQL whatever is cached: for a caller that keeps a
/// copy (the cart), which must not fill it from a cache that may not have heard of a
/// change yet.
pub async fn fresh_prices(pool: &Pool, ids: &[u64]) -> Result<Vec<u8>, ProductError> {
    to_json(&load(pool, &distinct(ids)).await?)
}

/// The live products among `ids` from MySQL, in the order of `ids`.
async fn load(pool: &Pool, ids: &[u64]) -> Result<Vec<Price>, ProductError> {
    let found = in_order(products::find_many(pool, ids).await?, ids);
    Ok(found.into_iter().map(Price::from).collect())
}
