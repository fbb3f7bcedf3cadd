//! Payment types, valid by construction: a charge request (whose card token is a secret
//! that is passed through to the gateway and never stored or logged), the payment states,
//! and the rule for settling a payment the gateway never saw.

use std::time::Duration;

use chrono::NaiveDateTime;
use mall_http::limits::MAX_TOTAL;
use secrecy::{ExposeSecret, SecretString};

/// `POST /internal/payments` as payment reads it: the contract's charge, its card token a
/// secret from the moment it is parsed.
pub type ChargeBody = mall_contracts::payment::ChargeRequest<SecretString>;

/// A validated charge request.
#[derive(Debug)]
pub struct NewPayment {
    pub order_id: u64,
    pub user_id: u64,
    pub amount: i64,
    pub currency: String,
    pub card_token: SecretString,
}

impl NewPayment {
    pub fn parse(body: ChargeBody) -> Result<Self, String> {
        if body.order_id == 0 || body.user_id == 0 {
            return Err("order_id and user_id must be positive".into());
        }
        if !(1..=MAX_TOTAL).contains(&body.amount) {
            return Err(format!(
                "amount must be a whole number of minor units from 1 to {MAX_TOTAL}"
            ));
        }
        if !(body.currency.len() == 3 && body.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err("currency must be three upper-case letters (ISO 4217)".into());
        }
        let token = body.card_token.expose_secret();
        // The message never repeats the token.
        if token.is_empty() || token.len() > 200 || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("card_token must be 1 to 200 visible ASCII characters".into());
        }
        Ok(Self {
            order_id: body.order_id,
            user_id: body.user_id,
            amount: body.amount,
            currency: body.currency,
            card_token: body.card_token,
        })
    }

    /// The gateway's idempotency key for this order's charge: every attempt, from any
    /// copy of the service, uses the same one, so the gateway charges at most once.
    pub fn gateway_key(&self) -> String {
        charge_key(self.order_id)
    }
}

pub fn charge_key(order_id: u64) -> String {
    format!("pay-{order_id}")
}

pub fn refund_key(payment_id: u64) -> String {
    format!("refund-{payment_id}")
}

/// The charge's reference at the gateway: the order id, so an operator (or a test) can
/// find an order's charges with `GET /v1/charges?reference=<order_id>`.
pub fn reference(order_id: u64) -> String {
    order_id.to_string()
}

/// A payment's state: the contract order reads too (`mall_contracts::payment`).
pub use mall_contracts::payment::PaymentStatus as Status;

/// True when a `pending` payment last attempted at `last_attempt`, of which the gateway
/// has no charge, may be settled as never charged: no attempt can still be on its way.
pub fn never_charged(now: NaiveDateTime, last_attempt: NaiveDateTime, after: Duration) -> bool {
    let Ok(after) = chrono::Duration::from_std(after) else {
        return false;
    };
    now.signed_duration_since(last_attempt) >= after
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(order_id: u64, amount: i64, currency: &str, token: &str) -> ChargeBody {
        ChargeBody {
            order_id,
            user_id: 7,
            amount,
            currency: currency.into(),
            card_token: SecretString::from(token),
        }
    }

    #[test]
    fn charge_requests_are_checked_without_echoing_the_token() {
        let ok = NewPayment::parse(body(3, 1000, "KRW", "tok_ok")).expect("valid");
        assert_eq!(ok.gateway_key(), "pay-3");
        for bad in [
            body(0, 1000, "KRW", "tok_ok"),
            body(3, 0, "KRW", "tok_ok"),
            body(3, -1, "KRW", "tok_ok"),
            body(3, MAX_TOTAL + 1, "KRW", "tok_ok"),
            body(3, i64::MAX, "KRW", "tok_ok"),
            body(3, 1000, "krw", "tok_ok"),
            body(3, 1000, "KRW", ""),
            body(3, 1000, "KRW", "tok ok"),
        ] {
            assert!(NewPayment::parse(bad).is_err());
        }
        let err = NewPayment::parse(body(3, 1, "KRW", "tok secret")).expect_err("space");
        assert!(!err.contains("secret"), "{err}");
        // Debug output of the request (should anyone log it) redacts the token.
        let shown = format!("{:?}", body(3, 1, "KRW", "tok_hidden"));
        assert!(!shown.contains("tok_hidden"), "{shown}");
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            Status::Pending,
            Status::Approved,
            Status::Declined,
            Status::Refunded,
        ] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("paid"), None);
    }

    #[test]
    fn never_charged_only_after_the_settle_delay() {
        let t0 = chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .expect("time")
            .naive_utc();
        let after = Duration::from_secs(20);
        let at = |secs| t0 + chrono::Duration::seconds(secs);
        assert!(!never_charged(at(0), t0, after));
        assert!(!never_charged(at(19), t0, after));
        assert!(never_charged(at(20), t0, after));
        assert!(never_charged(at(600), t0, after));
        // A clock that went backwards never settles.
        assert!(!never_charged(at(-5), t0, after));
    }
}
