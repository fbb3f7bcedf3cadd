//! What the simulator accepts, valid by construction: a charge request, the behaviour a
//! card token stands for, and the control modes tests switch between.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// `POST /v1/charges`. The card token is a secret: it is compared, never logged.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargeBody {
    pub idempotency_key: String,
    pub amount: i64,
    pub currency: String,
    pub card_token: SecretString,
    pub reference: String,
}

/// `POST /v1/charges/{id}/refunds`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    pub idempotency_key: String,
}

/// A validated charge request.
#[derive(Debug)]
pub struct NewCharge {
    pub idempotency_key: String,
    pub amount: i64,
    pub currency: String,
    pub card_token: SecretString,
    pub reference: String,
}

impl NewCharge {
    pub fn parse(body: ChargeBody) -> Result<Self, String> {
        check_key(&body.idempotency_key)?;
        if body.amount <= 0 {
            return Err("amount must be a positive number of minor units".into());
        }
        if !(body.currency.len() == 3 && body.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err("currency must be three upper-case letters (ISO 4217)".into());
        }
        let token = body.card_token.expose_secret();
        // The message never repeats the token.
        if token.is_empty() || token.len() > 200 {
            return Err("card_token must be 1 to 200 characters".into());
        }
        if body.reference.len() > 200 {
            return Err("reference must be at most 200 characters".into());
        }
        Ok(Self {
            idempotency_key: body.idempotency_key,
            amount: body.amount,
            currency: body.currency,
            card_token: body.card_token,
            reference: body.reference,
        })
    }
}

/// Idempotency keys: 1 to 200 visible ASCII characters.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("idempotency_key must be 1 to 200 visible ASCII characters".into());
    }
    Ok(())
}

/// What a card token makes the gateway do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// `tok_ok`: approved.
    Approve,
    /// `tok_timeout`: approved, but the answer comes only after the timeout delay.
    ApproveLate,
    /// `tok_declined` and every unknown token.
    Decline,
}

impl TokenKind {
    pub fn of(token: &SecretString) -> Self {
        match token.expose_secret() {
            "tok_ok" => Self::Approve,
            "tok_timeout" => Self::ApproveLate,
            _ => Self::Decline,
        }
    }
}

/// A charge's state at the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeStatus {
    Approved,
    Declined,
    Refunded,
}

impl ChargeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Refunded => "refunded",
        }
    }
}

/// `POST /v1/control`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlBody {
    pub mode: ModeName,
    #[serde(default)]
    pub delay_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeName {
    Normal,
    Fail,
    Slow,
}

/// How the `/v1/charges` routes behave right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Every charge route answers 503 without doing anything.
    Fail,
    /// Every charge route does its work, then waits this long before answering.
    Slow(Duration),
}

impl Mode {
    /// The longest `slow` delay: a minute (the simulator is for tests).
    pub const MAX_DELAY_MS: u64 = 60_000;

    pub fn parse(body: &ControlBody) -> Result<Self, String> {
        match body.mode {
            ModeName::Normal => Ok(Self::Normal),
            ModeName::Fail => Ok(Self::Fail),
            ModeName::Slow if (1..=Self::MAX_DELAY_MS).contains(&body.delay_ms) => {
                Ok(Self::Slow(Duration::from_millis(body.delay_ms)))
            }
            ModeName::Slow => Err(format!(
                "slow mode needs delay_ms between 1 and {}",
                Self::MAX_DELAY_MS
            )),
        }
    }

    pub fn name(self) -> ModeName {
        match self {
            Self::Normal => ModeName::Normal,
            Self::Fail => ModeName::Fail,
            Self::Slow(_) => ModeName::Slow,
        }
    }

    pub fn delay(self) -> Duration {
        match self {
            Self::Slow(d) => d,
            Self::Normal | Self::Fail => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(key: &str, amount: i64, currency: &str, token: &str) -> ChargeBody {
        ChargeBody {
            idempotency_key: key.into(),
            amount,
            currency: currency.into(),
            card_token: SecretString::from(token),
            reference: "order-1".into(),
        }
    }

    #[test]
    fn tokens_map_to_behaviours() {
        let kind = |t: &str| TokenKind::of(&SecretString::from(t));
        assert_eq!(kind("tok_ok"), TokenKind::Approve);
        assert_eq!(kind("tok_timeout"), TokenKind::ApproveLate);
        assert_eq!(kind("tok_declined"), TokenKind::Decline);
        assert_eq!(kind("tok_anything_else"), TokenKind::Decline);
        assert_eq!(kind("TOK_OK"), TokenKind::Decline);
    }

    #[test]
    fn charge_requests_are_checked_without_echoing_the_token() {
        assert!(NewCharge::parse(body("pay-1", 100, "KRW", "tok_ok")).is_ok());
        for bad in [
            body("", 100, "KRW", "tok_ok"),
            body("has space", 100, "KRW", "tok_ok"),
            body("pay-1", 0, "KRW", "tok_ok"),
            body("pay-1", -5, "KRW", "tok_ok"),
            body("pay-1", 100, "krw", "tok_ok"),
            body("pay-1", 100, "KRWX", "tok_ok"),
            body("pay-1", 100, "KRW", ""),
        ] {
            assert!(NewCharge::parse(bad).is_err());
        }
        let long_secret = format!("tok_{}", "s".repeat(300));
        let err = NewCharge::parse(body("k", 1, "KRW", &long_secret)).expect_err("too long");
        assert!(!err.contains("tok_"), "{err}");
    }

    #[test]
    fn slow_mode_needs_a_delay() {
        let parse = |mode, delay_ms| Mode::parse(&ControlBody { mode, delay_ms });
        assert_eq!(parse(ModeName::Normal, 0), Ok(Mode::Normal));
        assert_eq!(parse(ModeName::Fail, 0), Ok(Mode::Fail));
        assert_eq!(
            parse(ModeName::Slow, 250),
            Ok(Mode::Slow(Duration::from_millis(250)))
        );
        assert!(parse(ModeName::Slow, 0).is_err());
        assert!(parse(ModeName::Slow, Mode::MAX_DELAY_MS + 1).is_err());
    }
}
