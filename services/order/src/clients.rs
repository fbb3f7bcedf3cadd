//! The other services as the order service sees them, through nginx's internal listener.
//! Every call carries the request's trace id (mall_common::client).

use anyhow::Context as _;
use mall_common::client::ServiceClient;
pub use mall_common::contracts::{OutOfStock, PaymentStatus, ReservedItem};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use crate::domain::ItemQty;

#[derive(Debug, Clone, Deserialize)]
pub struct Reservation {
    pub items: Vec<ReservedItem>,
}

/// What the reservation call found.
pub enum Reserve {
    Done(Reservation),
    OutOfStock(u64),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Payment {
    pub id: u64,
    pub status: PaymentStatus,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogProduct {
    pub id: u64,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CartLine {
    pub product_id: u64,
    pub quantity: u32,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Cart {
    pub items: Vec<CartLine>,
}

#[derive(Clone)]
pub struct Clients {
    product: ServiceClient,
    cart: ServiceClient,
    payment: ServiceClient,
    user: ServiceClient,
}

impl Clients {
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Self> {
        let c = |url: &str| ServiceClient::new(url, config.call_timeout);
        Ok(Self {
            product: c(&config.product_url)?,
            cart: c(&config.cart_url)?,
            payment: c(&config.payment_url)?,
            user: c(&config.user_url)?,
        })
    }

    /// Live products among `ids` (to refuse unknown products before creating an order).
    pub async fn products(&self, ids: &[u64]) -> anyhow::Result<Vec<CatalogProduct>> {
        let list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        self.product
            .get_json(&format!("/internal/products?ids={list}"))
            .await
    }

    pub async fn cart(&self, user_id: u64) -> anyhow::Result<Cart> {
        self.cart
            .get_json(&format!("/internal/carts/{user_id}"))
            .await
    }

    pub async fn clear_cart(&self, user_id: u64) -> anyhow::Result<()> {
        let resp = self
            .cart
            .request(Method::DELETE, &format!("/internal/carts/{user_id}"))
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "clearing the cart answered {}",
            resp.status()
        );
        Ok(())
    }

    pub async fn reserve(&self, order_id: u64, items: &[ItemQty]) -> anyhow::Result<Reserve> {
        let resp = self
            .product
            .request(Method::POST, "/internal/reservations")
            .json(&json!({ "order_id": order_id, "items": items }))
            .send()
            .await
            .context("while reserving stock")?;
        if resp.status() == StatusCode::CONFLICT {
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            if body["error"]["code"] == "out_of_stock" {
                let short: OutOfStock = serde_json::from_value(body["out_of_stock"].clone())
                    .context("an out_of_stock answer without the product")?;
                return Ok(Reserve::OutOfStock(short.product_id));
            }
            anyhow::bail!("the reservation was refused: {body}");
        }
        Ok(Reserve::Done(ServiceClient::decode(resp, "reserve").await?))
    }

    async fn reservation_step(&self, order_id: u64, step: &str) -> anyhow::Result<()> {
        let path = format!("/internal/reservations/{order_id}/{step}");
        let resp = self
            .product
            .request(Method::POST, &path)
            .send()
            .await
            .with_context(|| format!("while calling {path}"))?;
        anyhow::ensure!(
            resp.status().is_success(),
            "{path} answered {}",
            resp.status()
        );
        Ok(())
    }

    pub async fn commit(&self, order_id: u64) -> anyhow::Result<()> {
        self.reservation_step(order_id, "commit").await
    }

    pub async fn release(&self, order_id: u64) -> anyhow::Result<()> {
        self.reservation_step(order_id, "release").await
    }

    /// Charges the order (idempotent on the order id at the payment service).
    pub async fn charge(
        &self,
        order_id: u64,
        user_id: u64,
        amount: i64,
        currency: &str,
        card_token: &SecretString,
    ) -> anyhow::Result<Payment> {
        let charge = json!({
            "order_id": order_id, "user_id": user_id, "amount": amount,
            "currency": currency, "card_token": card_token.expose_secret(),
        });
        self.payment.post_json("/internal/payments", &charge).await
    }

    /// The payment of an order, reconciled with the gateway; `None` when there is none.
    pub async fn payment_of(&self, order_id: u64) -> anyhow::Result<Option<Payment>> {
        let path = format!("/internal/payments/by-order/{order_id}");
        let resp = self
            .payment
            .request(Method::GET, &path)
            .send()
            .await
            .context("while asking for a payment")?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(ServiceClient::decode(resp, "payment by order").await?))
    }

    pub async fn refund(&self, payment_id: u64) -> anyhow::Result<Payment> {
        let path = format!("/internal/payments/{payment_id}/refund");
        let resp = self
            .payment
            .request(Method::POST, &path)
            .send()
            .await
            .context("while refunding")?;
        ServiceClient::decode(resp, "refund").await
    }

    pub async fn user_count(&self) -> anyhow::Result<u64> {
        let v: serde_json::Value = self.user.get_json("/internal/users/stats").await?;
        v["users"].as_u64().context("no users count")
    }

    pub async fn product_count(&self) -> anyhow::Result<u64> {
        let v: serde_json::Value = self.product.get_json("/internal/products/stats").await?;
        v["products"].as_u64().context("no products count")
    }
}
