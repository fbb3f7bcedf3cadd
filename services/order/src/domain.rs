//! Checkout input that is valid by construction: the idempotency key, the order body, and
//! the canonical hash that tells a retry from a different request.

use mall_http::limits::{self, bounded, JsonInt, MAX_ORDER_LINES, MAX_QUANTITY};
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

/// One line of an order: what the reservation asks of product (`mall-contracts`).
pub use mall_contracts::product::ItemQty;

/// One line of `items` as sent: numbers of any size or form, checked by [`check_items`]
/// so that every bad value gets a message naming its field and bound.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub product_id: JsonInt,
    pub quantity: JsonInt,
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
    #[serde(default, deserialize_with = "mall_http::filters::present")]
    pub items: Option<Vec<ItemBody>>,
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

/// Checks explicit items: 1–100 lines, a positive product id and a quantity of 1–99 each,
/// each product once.
pub fn check_items(items: &[ItemBody]) -> Result<Vec<ItemQty>, String> {
    if items.is_empty() || items.len() > MAX_ORDER_LINES {
        return Err(format!("an order holds 1 to {MAX_ORDER_LINES} products"));
    }
    let checked = items
        .iter()
        .map(|i| {
            let product_id = bounded("product_id", i.product_id, 1, i64::MAX)?;
            let quantity = bounded("quantity", i.quantity, 1, MAX_QUANTITY)?;
            Ok(ItemQty {
                product_id: product_id.unsigned_abs(),
                quantity: u32::try_from(quantity).map_err(|e| e.to_string())?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    check_lines(&checked)?;
    Ok(checked)
}

/// The same rules for lines that are typed already (a cart's).
pub fn check_lines(items: &[ItemQty]) -> Result<(), String> {
    if items.is_empty() || items.len() > MAX_ORDER_LINES {
        return Err(format!("an order holds 1 to {MAX_ORDER_LINES} products"));
    }
    let max = u32::try_from(MAX_QUANTITY).unwrap_or(u32::MAX);
    if items
        .iter()
        .any(|i| i.product_id == 0 || i.quantity == 0 || i.quantity > max)
    {
        return Err(format!(
            "each item needs a product_id and a quantity of 1 to {MAX_QUANTITY}"
        ));
    }
    let mut ids: Vec<u64> = items.iter().map(|i| i.product_id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err("each product may appear once".into());
    }
    Ok(())
}

/// The total of an order's lines `(price, quantity)` when the mall can charge it: checked
/// arithmetic, at most [`limits::MAX_TOTAL`] (`None` otherwise).
pub fn order_total(lines: impl IntoIterator<Item = (i64, u32)>) -> Option<i64> {
    let totals = lines
        .into_iter()
        .map(|(price, quantity)| limits::line_total(price, quantity))
        .collect::<Option<Vec<i64>>>()?;
    limits::sum(totals).filter(|t| *t <= limits::MAX_TOTAL)
}

/// Why an order whose total cannot be charged failed.
pub fn total_too_large() -> String {
    format!(
        "the order's total exceeds {}, the largest amount the mall can charge",
        limits::MAX_TOTAL
    )
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
    fn totals_are_checked_never_wrapped() {
        let max = limits::MAX_PRICE;
        assert_eq!(order_total([(1_000, 2), (300, 5)]), Some(3_500));
        assert_eq!(order_total(vec![(max, 99); 100]), Some(limits::MAX_TOTAL));
        assert_eq!(order_total(vec![(max, 99); 101]), None);
        assert_eq!(order_total([(i64::MAX - 7, 2)]), None);
        assert_eq!(order_total([(i64::MAX, 1), (1, 1)]), None);
        assert!(total_too_large().contains(&limits::MAX_TOTAL.to_string()));
    }

    #[test]
    fn items_are_checked() {
        let i = |p: i64, q: i64| ItemBody {
            product_id: p.into(),
            quantity: q.into(),
        };
        assert_eq!(
            check_items(&[i(1, 1), i(2, 99)]),
            Ok(vec![
                ItemQty {
                    product_id: 1,
                    quantity: 1
                },
                ItemQty {
                    product_id: 2,
                    quantity: 99
                }
            ])
        );
        assert!(check_items(&[]).is_err());
        assert!(check_items(&[i(1, 0)]).is_err());
        assert!(check_items(&[i(1, 100)]).is_err());
        assert!(check_items(&[i(1, 1), i(1, 2)]).is_err());
        assert!(check_items(&[i(0, 1)]).is_err());
        for bad in [i(1, -1), i(1, i64::MAX), i(-1, 1)] {
            let err = check_items(&[bad]).expect_err("out of range");
            assert!(err.contains("must be a whole number from 1 to"), "{err}");
        }
        let fraction = ItemBody {
            product_id: 1.into(),
            quantity: JsonInt::NotWhole,
        };
        assert_eq!(
            check_items(&[fraction]),
            Err("quantity must be a whole number from 1 to 99".to_owned())
        );
    }
}
