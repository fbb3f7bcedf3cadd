//! A cart line's quantity, valid by construction.

use serde::Deserialize;

/// 1 to 99 of one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 99;

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for Quantity {
    type Error = String;

    fn try_from(n: i64) -> Result<Self, Self::Error> {
        match u32::try_from(n) {
            Ok(q) if (1..=Self::MAX).contains(&q) => Ok(Self(q)),
            _ => Err(format!("quantity must be between 1 and {}", Self::MAX)),
        }
    }
}

/// `PUT /api/cart/items/{product_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantityBody {
    pub quantity: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_is_one_to_ninety_nine() {
        assert!(Quantity::try_from(0).is_err());
        assert!(Quantity::try_from(-1).is_err());
        assert!(Quantity::try_from(100).is_err());
        assert_eq!(Quantity::try_from(99).map(Quantity::get), Ok(99));
    }
}
