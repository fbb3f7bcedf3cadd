//! The product service as the cart sees it: current name, price and currency of live
//! products.

use std::collections::HashMap;
use std::time::Duration;

use mall_contracts::product::ProductClient;
use mall_contracts::{ServiceClient, Target};

/// A product's name, price and currency, as the catalog's price lookup answers them.
pub use mall_contracts::product::Price as CatalogProduct;

#[derive(Clone)]
pub struct Catalog {
    client: ProductClient,
}

impl Catalog {
    /// The catalog at `target` (PRODUCT_URL: one URL, or both slots' with SLOT_MARKERS).
    pub fn new(target: Target) -> anyhow::Result<Self> {
        Ok(Self {
            client: ProductClient::new(ServiceClient::to(target, Duration::from_secs(3))?),
        })
    }

    /// Live products among `ids`, by id (deleted or unknown ids are simply absent).
    pub async fn products(&self, ids: &[u64]) -> anyhow::Result<HashMap<u64, CatalogProduct>> {
        let found = self.client.prices(ids).await?;
        Ok(found.into_iter().map(|p| (p.id, p)).collect())
    }
}
