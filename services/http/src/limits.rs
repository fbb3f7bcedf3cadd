//! The limits that are part of the contract (API.md "Limits are part of the contract",
//! docs/openapi.yaml): every price, amount, quantity and stock delta has one bound, written
//! here once, enforced where it enters (422 beyond it), and sized so that no total the mall
//! computes can overflow: the largest order (100 lines of 99 units at the largest price)
//! stays below 2^53, so every amount is also exact as a JavaScript number (the storefront).
//! Totals are still computed with checked arithmetic ([`line_total`], [`sum`]): rows written
//! before these bounds existed must not overflow either.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The largest price of a product, in the currency's minor unit.
pub const MAX_PRICE: i64 = 100_000_000_000;
/// The largest quantity of one product in a cart line or an order line.
pub const MAX_QUANTITY: i64 = 99;
/// The most lines an order may hold.
pub const MAX_ORDER_LINES: usize = 100;
/// The largest total of an order (and so of a payment): every line at its largest.
pub const MAX_TOTAL: i64 = MAX_PRICE * MAX_QUANTITY * MAX_ORDER_LINES as i64;
/// The largest stock of a product, and so the largest stock delta either way.
pub const MAX_STOCK: i64 = 1_000_000_000;

// Checked at compile time: the largest total is exact in JavaScript (2^53).
const _: () = assert!(MAX_TOTAL < (1 << 53));

/// A JSON number as the client sent it, before its bounds are checked, so that a value out
/// of range (beyond `i64` included, or with a fraction) is answered with the field's own
/// message ([`bounded`]) instead of the JSON parser's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JsonInt {
    /// A whole number (numbers beyond `i128` saturate: they are out of every bound).
    Whole(i128),
    /// A number written with a fraction or an exponent, or beyond `u64`.
    NotWhole,
}

impl JsonInt {
    /// The value when it is whole and within `min..=max`.
    pub fn within(self, min: i64, max: i64) -> Option<i64> {
        match self {
            Self::Whole(n) if (i128::from(min)..=i128::from(max)).contains(&n) => {
                i64::try_from(n).ok()
            }
            _ => None,
        }
    }
}

impl From<i64> for JsonInt {
    fn from(n: i64) -> Self {
        Self::Whole(i128::from(n))
    }
}

/// `field` as an `i64` in `min..=max`, or the message that says so.
pub fn bounded(field: &str, value: JsonInt, min: i64, max: i64) -> Result<i64, String> {
    value
        .within(min, max)
        .ok_or_else(|| format!("{field} must be a whole number from {min} to {max}"))
}

/// A query-string number (`min_price=…`) checked like a body's: `field` in `min..=max`.
pub fn bounded_query(field: &str, raw: &str, min: i64, max: i64) -> Result<i64, String> {
    let value = raw
        .trim()
        .parse::<i128>()
        .map(JsonInt::Whole)
        .unwrap_or(JsonInt::NotWhole);
    bounded(field, value, min, max)
}

struct JsonIntVisitor;

impl Visitor<'_> for JsonIntVisitor {
    type Value = JsonInt;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonInt, E> {
        Ok(JsonInt::Whole(i128::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonInt, E> {
        Ok(JsonInt::Whole(i128::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<JsonInt, E> {
        Ok(JsonInt::Whole(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<JsonInt, E> {
        Ok(JsonInt::Whole(i128::try_from(v).unwrap_or(i128::MAX)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonInt, E> {
        // A number written with a fraction part or an exponent (`16.0`, `1.6e1`) is a whole
        // number when its value is one, as JSON Schema's `integer` says: taken when it is
        // exact (up to 2^53, above every bound). Anything else (`12.5`, integers beyond
        // u64, which serde_json hands over as floats) is not: money is never a fraction.
        const EXACT: f64 = (1u64 << 53) as f64;
        if v.fract() == 0.0 && v.abs() <= EXACT {
            return Ok(JsonInt::Whole(v as i128));
        }
        Ok(JsonInt::NotWhole)
    }
}

impl<'de> Deserialize<'de> for JsonInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonIntVisitor)
    }
}

impl Serialize for JsonInt {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // As sent where the number fits a JSON integer (so a canonical form of a request
        // is the same as for the plain types this replaced); null otherwise.
        match self {
            Self::Whole(n) => match (i64::try_from(*n), u64::try_from(*n)) {
                (Ok(v), _) => s.serialize_i64(v),
                (_, Ok(v)) => s.serialize_u64(v),
                _ => s.serialize_none(),
            },
            Self::NotWhole => s.serialize_none(),
        }
    }
}

/// A name shown to people (a user's or a product's name, a category), checked exactly as
/// docs/openapi.yaml's `Label` states: at most `max` characters as sent, no control
/// characters, at least one character that is not whitespace. Answers it trimmed.
pub fn label<'a>(field: &str, raw: &'a str, max: usize) -> Result<&'a str, String> {
    if raw.chars().count() > max {
        return Err(format!("{field} must be at most {max} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err(format!("{field} must not contain control characters"));
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    Ok(trimmed)
}

/// `price × quantity`, `None` on overflow.
pub fn line_total(price: i64, quantity: u32) -> Option<i64> {
    price.checked_mul(i64::from(quantity))
}

/// The sum of `amounts`, `None` on overflow.
pub fn sum(amounts: impl IntoIterator<Item = i64>) -> Option<i64> {
    amounts
        .into_iter()
        .try_fold(0i64, |acc, n| acc.checked_add(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> JsonInt {
        serde_json::from_str(json).expect("a number")
    }

    #[test]
    fn the_largest_order_is_exact_in_javascript() {
        assert_eq!(line_total(MAX_PRICE, 99), Some(MAX_PRICE * 99));
        assert_eq!(line_total(i64::MAX - 7, 2), None);
        assert_eq!(sum([i64::MAX, 1]), None);
        assert_eq!(sum([1, 2, 3]), Some(6));
    }

    #[test]
    fn every_form_of_a_number_gets_the_fields_message() {
        let price = |json: &str| bounded("price", parse(json), 0, MAX_PRICE);
        assert_eq!(price("0"), Ok(0));
        assert_eq!(price("100000000000"), Ok(MAX_PRICE));
        for bad in [
            "100000000001",
            "-1",
            "9223372036854775807",
            "18446744073709551616",
            "99999999999999999999999",
            "12.5",
            "1e300",
            "-1e300",
            "100000000001.0",
        ] {
            let err = price(bad).expect_err(bad);
            assert_eq!(err, "price must be a whole number from 0 to 100000000000");
        }
        // A whole value in another notation is that whole number (JSON Schema `integer`).
        assert_eq!(parse("2.0"), JsonInt::Whole(2));
        assert_eq!(parse("1.6e1"), JsonInt::Whole(16));
        assert_eq!(parse("0.5e1"), JsonInt::Whole(5));
        assert_eq!(parse("-0.0"), JsonInt::Whole(0));
        assert_eq!(price("1e11"), Ok(MAX_PRICE));
        assert_eq!(parse("9007199254740993.0"), JsonInt::NotWhole);
        assert!(serde_json::from_str::<JsonInt>("\"5\"").is_err());
        assert!(serde_json::from_str::<JsonInt>("null").is_err());
    }

    #[test]
    fn labels_are_counted_as_sent_and_trimmed_when_kept() {
        assert_eq!(label("name", "  Ann ", 10), Ok("Ann"));
        assert_eq!(label("name", "Ann\u{a0}", 10), Ok("Ann"));
        assert!(label("name", "   ", 10).is_err());
        assert!(label("name", "", 10).is_err());
        assert!(label("name", "\u{2003}\u{3000}", 10).is_err());
        assert!(label("name", "a\u{7}b", 10).is_err());
        assert!(label("name", "a\u{85}b", 10).is_err());
        assert!(label("name", "a\u{9f}", 10).is_err());
        assert_eq!(label("name", "a\u{a0}b", 10), Ok("a\u{a0}b"));
        // Ten characters as sent, whatever trimming would leave.
        assert_eq!(
            label("name", "é".repeat(10).as_str(), 10).map(str::len),
            Ok(20)
        );
        assert_eq!(
            label("name", " abcdefghij", 10),
            Err("name must be at most 10 characters".into())
        );
    }

    #[test]
    fn query_numbers_are_bounded_alike() {
        assert_eq!(bounded_query("min_price", "10", 0, MAX_PRICE), Ok(10));
        assert!(bounded_query("min_price", "9223372036854775807", 0, MAX_PRICE).is_err());
        assert!(bounded_query("min_price", "1.5", 0, MAX_PRICE).is_err());
        assert!(bounded_query("min_price", "ten", 0, MAX_PRICE).is_err());
    }
}
