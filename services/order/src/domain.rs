//! Checkout input that is valid by construction: the idempotency key, the order body, and
//! the canonical hash that tells a retry from a different request.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `Idempotency-Key`: 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: Option<&str>) -> Option<Self> {
        let s = raw?;
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ItemQty {
    pub product_id: u64,
    pub quantity: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    pub card_token: SecretString,
}

/// `POST /api/orders`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub items: Option<Vec<ItemQty>>,
    pub payment: PaymentBody,
}

impl OrderBody {
    /// SHA-256 over the items as sent and the card token: equal for a retry of the same
    /// request, different for anything else.
    pub fn request_hash(&self) -> String {
        let canonical = serde_json::json!({
            "items": self.items,
            "card_token": self.payment.card_token.expose_secret(),
        });
        let digest = Sha256::digest(canonical.to_string().as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Checks explicit items: 1–100 lines, quantities 1–99, each product once.
pub fn check_items(items: &[ItemQty]) -> Result<(), String> {
    if items.is_empty() || items.len() > 100 {
        return Err("an order holds 1 to 100 products".into());
    }
    if items
        .iter()
        .any(|i| i.product_id == 0 || i.quantity == 0 || i.quantity > 99)
    {
        return Err("each item needs a product_id and a quantity of 1 to 99".into());
    }
    let mut ids: Vec<u64> = items.iter().map(|i| i.product_id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err("each product may appear once".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_short_and_plain() {
        assert!(IdempotencyKey::parse(Some("order-2026_11")).is_some());
        assert!(IdempotencyKey::parse(Some("")).is_none());
        assert!(IdempotencyKey::parse(None).is_none());
        assert!(IdempotencyKey::parse(Some(&"k".repeat(65))).is_none());
        assert!(IdempotencyKey::parse(Some("a b")).is_none());
    }

    #[test]
    fn the_hash_tells_retries_from_other_requests() {
        let body = |json: &str| {
            serde_json::from_str::<OrderBody>(json)
                .expect("body")
                .request_hash()
        };
        let a =
            body(r#"{"items":[{"product_id":1,"quantity":2}],"payment":{"card_token":"tok_ok"}}"#);
        let same =
            body(r#"{"payment":{"card_token":"tok_ok"},"items":[{"quantity":2,"product_id":1}]}"#);
        let other =
            body(r#"{"items":[{"product_id":1,"quantity":3}],"payment":{"card_token":"tok_ok"}}"#);
        assert_eq!(a, same);
        assert_ne!(a, other);
    }

    #[test]
    fn items_are_checked() {
        let i = |p, q| ItemQty {
            product_id: p,
            quantity: q,
        };
        assert!(check_items(&[i(1, 1), i(2, 99)]).is_ok());
        assert!(check_items(&[]).is_err());
        assert!(check_items(&[i(1, 0)]).is_err());
        assert!(check_items(&[i(1, 100)]).is_err());
        assert!(check_items(&[i(1, 1), i(1, 2)]).is_err());
    }
}
