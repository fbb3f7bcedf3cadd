//! The product service's internal calls (`/internal/products`, `/internal/reservations`):
//! the cart prices from its lookup, the order service reserves, commits and releases stock.

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::catalog_changes::{FRESH_ANSWER, FRESH_REQUEST};
use crate::client::ServiceClient;

/// A product as the API shows it (the public answer, and the internal lookup's items).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Product {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub currency: String,
    pub stock: i64,
    pub category: String,
    pub image_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What the cart and a checkout need of a product: the internal price lookup's items
/// (`GET /internal/products/prices`). No stock: it never waits for one, so a product every
/// checkout reserves is still a cache hit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Price {
    pub id: u64,
    pub name: String,
    pub price: i64,
    pub currency: String,
}

impl From<Product> for Price {
    fn from(p: Product) -> Self {
        Self {
            id: p.id,
            name: p.name,
            price: p.price,
            currency: p.currency,
        }
    }
}

/// `GET /internal/products/stats`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProductStats {
    pub products: u64,
}

/// One line of a reservation request.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ItemQty {
    pub product_id: u64,
    pub quantity: u32,
}

/// `POST /internal/reservations`: every item of the order or none.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    pub order_id: u64,
    pub items: Vec<ItemQty>,
}

/// A reservation's state and its moves, the one definition product stores and answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    Reserved,
    Committed,
    Released,
}

impl ReservationStatus {
    pub const ALL: [Self; 3] = [Self::Reserved, Self::Committed, Self::Released];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Committed => "committed",
            Self::Released => "released",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// A commit moves only a `reserved` reservation; a `committed` one is committed already.
    pub fn can_commit(self) -> bool {
        self == Self::Reserved
    }

    /// A release restocks a `reserved` or `committed` reservation, once.
    pub fn can_release(self) -> bool {
        self != Self::Released
    }
}

/// The answer of a reservation (and of `GET /internal/reservations/{order_id}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reservation {
    pub order_id: u64,
    pub status: ReservationStatus,
    pub items: Vec<ReservedItem>,
}

/// One line of a stock reservation as product answers it (`POST /internal/reservations`)
/// and order stores it: the product's name, price and currency when it was reserved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReservedItem {
    pub product_id: u64,
    pub quantity: u32,
    pub name: String,
    pub price: i64,
    pub currency: String,
}

/// Beside the standard error body of a refused reservation (409 `out_of_stock`): which
/// product was short, as a field (`{"error": {...}, "out_of_stock": {"product_id": 7}}`),
/// so the caller never reads it out of the message's text.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutOfStock {
    pub product_id: u64,
}

/// What a reservation call found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Done(Reservation),
    /// Nothing was reserved: this product (the first short, deleted or unknown) is why.
    OutOfStock(OutOfStock),
}

#[path = "product_batches.rs"]
mod batches;
pub use batches::*;

/// The product service as its callers see it.
#[derive(Clone, Debug)]
pub struct ProductClient(ServiceClient);

impl ProductClient {
    pub fn new(client: ServiceClient) -> Self {
        Self(client)
    }

    /// Live products among `ids` (deleted or unknown ids are simply absent).
    pub async fn products(&self, ids: &[u64]) -> anyhow::Result<Vec<Product>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.0
            .get_json(&format!("/internal/products?ids={}", id_list(ids)))
            .await
    }

    /// Name, price and currency of the live products among `ids`, in the order asked
    /// (deleted or unknown ids are simply absent). A product slot from before the price
    /// route answers it 404: then the full lookup ([`products`](Self::products)).
    pub async fn prices(&self, ids: &[u64]) -> anyhow::Result<Vec<Price>> {
        Ok(self.price_lookup(ids, false).await?.0)
    }

    /// [`prices`](Self::prices) read from the product database, not from a cache, for a
    /// caller that keeps a copy. The flag says whether the answer says it was (a product
    /// build from before [`FRESH_REQUEST`] answers from its cache and does not say so).
    pub async fn fresh_prices(&self, ids: &[u64]) -> anyhow::Result<(Vec<Price>, bool)> {
        self.price_lookup(ids, true).await
    }

    async fn price_lookup(&self, ids: &[u64], fresh: bool) -> anyhow::Result<(Vec<Price>, bool)> {
        if ids.is_empty() {
            return Ok((Vec::new(), true));
        }
        let path = format!("/internal/products/prices?ids={}", id_list(ids));
        let mut request = self.0.request(Method::GET, &path);
        if fresh {
            request = request.header(FRESH_REQUEST.0, FRESH_REQUEST.1);
        }
        let resp = request
            .send()
            .await
            .with_context(|| format!("while calling GET {path}"))?;
        if resp.status() == StatusCode::NOT_FOUND {
            let full = self.products(ids).await?;
            return Ok((full.into_iter().map(Price::from).collect(), false));
        }
        let read_fresh = fresh
            && resp
                .headers()
                .get(FRESH_ANSWER.0)
                .is_some_and(|v| v.as_bytes() == FRESH_ANSWER.1.as_bytes());
        Ok((ServiceClient::decode(resp, &path).await?, read_fresh))
    }

    pub async fn stats(&self) -> anyhow::Result<ProductStats> {
        self.0.get_json("/internal/products/stats").await
    }

    /// Reserves every item or none; a refusal for stock is [`Reserved::OutOfStock`] (read
    /// from the error body's `out_of_stock` field), any other refusal an error.
    pub async fn reserve(&self, request: &ReserveRequest) -> anyhow::Result<Reserved> {
        let resp = self
            .0
            .request(Method::POST, "/internal/reservations")
            .json(request)
            .send()
            .await
            .context("while reserving stock")?;
        if resp.status() == StatusCode::CONFLICT {
            let body: RefusedReservation = resp
                .json()
                .await
                .context("while reading a refused reservation")?;
            return match body.out_of_stock {
                Some(short) => Ok(Reserved::OutOfStock(short)),
                None => anyhow::bail!("the reservation was refused: {}", body.error.code),
            };
        }
        Ok(Reserved::Done(
            ServiceClient::decode(resp, "reserve").await?,
        ))
    }

    /// Commits a reservation (idempotent).
    pub async fn commit(&self, order_id: u64) -> anyhow::Result<()> {
        let path = format!("/internal/reservations/{order_id}/commit");
        self.0.send_ok(Method::POST, &path).await
    }

    /// Releases a reservation, restocking it once (idempotent).
    pub async fn release(&self, order_id: u64) -> anyhow::Result<()> {
        let path = format!("/internal/reservations/{order_id}/release");
        self.0.send_ok(Method::POST, &path).await
    }
}

/// `ids` as the lookups' query takes them: `1,2,3`.
fn id_list(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// A 409 of `POST /internal/reservations`: the standard body, with `out_of_stock` beside
/// it when stock was why.
#[derive(Deserialize)]
struct RefusedReservation {
    error: ErrorCode,
    out_of_stock: Option<OutOfStock>,
}

#[derive(Deserialize)]
struct ErrorCode {
    code: String,
}

#[cfg(test)]
#[path = "product_tests.rs"]
mod tests;
