//! The cart service's internal calls (`/internal/carts/{user_id}`): the order service reads
//! a shopper's cart priced from the catalog, and clears it after a paid checkout. The
//! answer is the same priced cart the shopper's `GET /api/cart` shows.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::ServiceClient;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CartLine {
    pub product_id: u64,
    pub name: String,
    pub price: i64,
    pub currency: String,
    pub quantity: u32,
    pub line_total: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CurrencyTotal {
    pub currency: String,
    pub total: i64,
}

/// A cart priced from the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CartView {
    pub items: Vec<CartLine>,
    /// The cart's currency; `None` when it is empty or holds two currencies.
    pub currency: Option<String>,
    /// The total in `currency` (0 for an empty cart); `None` when there are two currencies.
    pub total: Option<i64>,
    /// One total per currency, by currency code.
    pub totals: Vec<CurrencyTotal>,
}

/// The cart service as the order service sees it.
#[derive(Clone, Debug)]
pub struct CartClient(ServiceClient);

impl CartClient {
    pub fn new(client: ServiceClient) -> Self {
        Self(client)
    }

    pub async fn cart(&self, user_id: u64) -> anyhow::Result<CartView> {
        self.0.get_json(&format!("/internal/carts/{user_id}")).await
    }

    pub async fn clear(&self, user_id: u64) -> anyhow::Result<()> {
        let path = format!("/internal/carts/{user_id}");
        self.0.send_ok(Method::DELETE, &path).await
    }
}
