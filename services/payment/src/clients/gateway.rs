//! The card gateway (docs/checkout.md, "Card gateway simulator"), called directly: it is
//! outside the mall. Every call carries `X-Trace-Id` and has `GATEWAY_TIMEOUT_MS` to
//! answer. The card token goes into the request body and nowhere else.

use std::time::Duration;

use anyhow::Context as _;
use mall_contracts::client::ServiceClient;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Deserializer, Serialize};
use tracing::instrument;

use crate::domain::{self, NewPayment};

/// A charge as the gateway reports it.
#[derive(Clone, Debug, Deserialize)]
pub struct GatewayCharge {
    /// Opaque to us (the simulator uses numbers, real gateways strings).
    #[serde(deserialize_with = "opaque_id")]
    pub id: String,
    pub status: String,
    pub amount: i64,
}

/// Why a call did not give an answer we can act on.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// Timeout, connection failure or 5xx: the outcome is unknown; try again later.
    #[error("the gateway is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A 4xx: the gateway refused the request.
    #[error("the gateway answered {status} ({code})")]
    Refused { status: StatusCode, code: String },
    /// A 2xx we cannot read.
    #[error("the gateway's answer could not be read")]
    BadAnswer(#[source] anyhow::Error),
}

#[derive(Serialize)]
struct ChargeWire<'a> {
    idempotency_key: &'a str,
    amount: i64,
    currency: &'a str,
    card_token: &'a str,
    reference: &'a str,
}

#[derive(Serialize)]
struct RefundWire<'a> {
    idempotency_key: &'a str,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorInner,
}

#[derive(Deserialize)]
struct ErrorInner {
    code: String,
}

#[derive(Clone)]
pub struct Gateway {
    client: ServiceClient,
}

// === impl Gateway ===

impl Gateway {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: ServiceClient::new(base_url, timeout)?,
        })
    }

    /// `POST /v1/charges` under the order's idempotency key.
    #[instrument(skip_all, fields(order_id = p.order_id))]
    pub async fn charge(&self, p: &NewPayment) -> Result<GatewayCharge, GatewayError> {
        let key = p.gateway_key();
        let reference = domain::reference(p.order_id);
        let body = ChargeWire {
            idempotency_key: &key,
            amount: p.amount,
            currency: &p.currency,
            card_token: p.card_token.expose_secret(),
            reference: &reference,
        };
        let resp = self
            .client
            .request(Method::POST, "/v1/charges")
            .json(&body)
            .send()
            .await;
        decode(resp, "POST /v1/charges").await
    }

    /// The charge made under `key`, if any.
    #[instrument(skip_all, fields(idempotency_key = key))]
    pub async fn find(&self, key: &str) -> Result<Option<GatewayCharge>, GatewayError> {
        let resp = self
            .client
            .request(Method::GET, &format!("/v1/charges?idempotency_key={key}"))
            .send()
            .await;
        let found: Vec<GatewayCharge> = decode(resp, "GET /v1/charges").await?;
        Ok(found.into_iter().next())
    }

    /// `POST /v1/charges/{id}/refunds` under `key`.
    #[instrument(skip_all, fields(charge_id = charge_id, idempotency_key = key))]
    pub async fn refund(&self, charge_id: &str, key: &str) -> Result<GatewayCharge, GatewayError> {
        let resp = self
            .client
            .request(Method::POST, &format!("/v1/charges/{charge_id}/refunds"))
            .json(&RefundWire {
                idempotency_key: key,
            })
            .send()
            .await;
        decode(resp, "POST /v1/charges/{id}/refunds").await
    }
}

async fn decode<T: serde::de::DeserializeOwned>(
    resp: reqwest::Result<reqwest::Response>,
    what: &str,
) -> Result<T, GatewayError> {
    let resp = resp
        .with_context(|| format!("while calling {what}"))
        .map_err(GatewayError::Unavailable)?;
    let status = resp.status();
    if status.is_server_error() {
        return Err(GatewayError::Unavailable(anyhow::anyhow!(
            "{what} answered {status}"
        )));
    }
    if !status.is_success() {
        let code = resp
            .json::<ErrorBody>()
            .await
            .map(|b| b.error.code)
            .unwrap_or_else(|_| "unknown".into());
        return Err(GatewayError::Refused { status, code });
    }
    resp.json::<T>()
        .await
        .with_context(|| format!("while reading the answer of {what}"))
        // A body cut off by the timeout is as unknown as no answer at all.
        .map_err(|e| {
            if e.chain().any(|c| {
                c.downcast_ref::<reqwest::Error>()
                    .is_some_and(|r| r.is_timeout())
            }) {
                GatewayError::Unavailable(e)
            } else {
                GatewayError::BadAnswer(e)
            }
        })
}

fn opaque_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) if !s.is_empty() && s.len() <= 64 => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "a charge id must be a number or a short string, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_ids_are_kept_opaque() {
        let c: GatewayCharge = serde_json::from_str(
            r#"{"id": 1700000000123000, "status": "approved", "amount": 5, "extra": 1}"#,
        )
        .expect("numeric id");
        assert_eq!(c.id, "1700000000123000");
        let c: GatewayCharge =
            serde_json::from_str(r#"{"id": "ch_abc", "status": "declined", "amount": 5}"#)
                .expect("string id");
        assert_eq!(c.id, "ch_abc");
        assert!(serde_json::from_str::<GatewayCharge>(
            r#"{"id": null, "status": "x", "amount": 1}"#
        )
        .is_err());
    }
}
