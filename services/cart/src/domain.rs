//! A cart line's quantity, valid by construction.

use mall_http::limits::{bounded, JsonInt, MAX_QUANTITY};
use serde::Deserialize;

/// 1 to 99 of one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 99;

    pub fn get(self) -> u32 {
        self.0
    }

    /// A quantity as sent (any JSON number), 1 to [`Self::MAX`].
    pub fn parse(n: JsonInt) -> Result<Self, String> {
        let q = bounded("quantity", n, 1, MAX_QUANTITY)?;
        u32::try_from(q).map(Self).map_err(|e| e.to_string())
    }
}

impl TryFrom<i64> for Quantity {
    type Error = String;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        Self::parse(n.into())
    }
}

/// `PUT /api/cart/items/{product_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantityBody {
    pub quantity: JsonInt,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_is_one_to_ninety_nine() {
        assert!(Quantity::try_from(0).is_err());
        assert!(Quantity::try_from(-1).is_err());
        assert!(Quantity::try_from(100).is_err());
        assert!(Quantity::parse(JsonInt::NotWhole).is_err());
        assert_eq!(
            Quantity::try_from(i64::MAX),
            Err("quantity must be a whole number from 1 to 99".to_owned())
        );
        assert_eq!(Quantity::try_from(99).map(Quantity::get), Ok(99));
    }
}
