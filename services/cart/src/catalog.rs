//! The product service as the cart sees it: current name, price and currency of live
//! products.

use std::collections::HashMap;
use std::time::Duration;

use mall_common::client::ServiceClient;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogProduct {
    pub id: u64,
    pub name: String,
    pub price: i64,
    pub currency: String,
}

#[derive(Clone)]
pub struct Catalog {
    client: ServiceClient,
}

impl Catalog {
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: ServiceClient::new(base_url, Duration::from_secs(3))?,
        })
    }

    /// Live products among `ids`, by id (deleted or unknown ids are simply absent).
    pub async fn products(&self, ids: &[u64]) -> anyhow::Result<HashMap<u64, CatalogProduct>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        let found: Vec<CatalogProduct> = self
            .client
            .get_json(&format!("/internal/products?ids={list}"))
            .await?;
        Ok(found.into_iter().map(|p| (p.id, p)).collect())
    }
}
