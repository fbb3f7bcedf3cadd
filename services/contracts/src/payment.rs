//! The payment service's internal calls (`/internal/payments`): the order service charges
//! an order, asks for its payment (reconciled with the gateway) and refunds it.

use anyhow::Context as _;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use crate::client::ServiceClient;

/// A payment's state, as the payment service stores and answers it and the order service
/// settles an order from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    /// The gateway has not answered yet (timeout, outage); reconciliation settles it.
    Pending,
    Approved,
    Declined,
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [Self; 4] = [
        Self::Pending,
        Self::Approved,
        Self::Declined,
        Self::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The one status a payment reaches this one from, `None` for `pending` (where a
    /// payment starts): the gateway's answer settles a `pending` payment `approved` or
    /// `declined` (or declines one it never saw), a refund moves `approved` to `refunded`.
    /// The only statement of the payment's moves: storage guards every update with it.
    pub fn comes_from(self) -> Option<Self> {
        match self {
            Self::Pending => None,
            Self::Approved | Self::Declined => Some(Self::Pending),
            Self::Refunded => Some(Self::Approved),
        }
    }
}

/// `POST /internal/payments`: charge an order once (idempotent on the order id). The card
/// token is `&str` where the order service sends it and a secret where payment reads it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeRequest<Token> {
    pub order_id: u64,
    pub user_id: u64,
    pub amount: i64,
    pub currency: String,
    pub card_token: Token,
}

/// A payment as payment answers it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Payment {
    pub id: u64,
    pub order_id: u64,
    pub user_id: u64,
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub created_at: String,
}

/// The payment service as the order service sees it.
#[derive(Clone, Debug)]
pub struct PaymentClient(ServiceClient);

impl PaymentClient {
    pub fn new(client: ServiceClient) -> Self {
        Self(client)
    }

    /// Charges the order (idempotent on the order id at the payment service).
    pub async fn charge(&self, charge: &ChargeRequest<&str>) -> anyhow::Result<Payment> {
        self.0.post_json("/internal/payments", charge).await
    }

    /// The payment of an order, reconciled with the gateway; `None` when there is none.
    pub async fn of_order(&self, order_id: u64) -> anyhow::Result<Option<Payment>> {
        let path = format!("/internal/payments/by-order/{order_id}");
        let resp = self
            .0
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
            .0
            .request(Method::POST, &path)
            .send()
            .await
            .context("while refunding")?;
        ServiceClient::decode(resp, "refund").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_statuses_round_trip_through_their_names_and_json() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<PaymentStatus>(&json).unwrap(), s);
        }
        assert_eq!(PaymentStatus::parse("paid"), None);
    }

    #[test]
    fn payments_move_forward_only() {
        use PaymentStatus as S;
        let moves: Vec<(S, S)> = S::ALL
            .into_iter()
            .filter_map(|to| to.comes_from().map(|from| (from, to)))
            .collect();
        assert_eq!(
            moves,
            [
                (S::Pending, S::Approved),
                (S::Pending, S::Declined),
                (S::Approved, S::Refunded)
            ]
        );
    }

    #[test]
    fn a_charge_is_the_same_fields_on_both_sides() {
        let sent = ChargeRequest {
            order_id: 1,
            user_id: 2,
            amount: 300,
            currency: "EUR".to_owned(),
            card_token: "tok_ok",
        };
        let json = serde_json::to_string(&sent).unwrap();
        let read: ChargeRequest<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            (read.order_id, read.amount, read.card_token.as_str()),
            (1, 300, "tok_ok")
        );
    }
}
