//! The service-to-service contracts: the request and answer types of the internal calls
//! that two services both speak, declared once so that the server that sends one and the
//! client that reads it cannot drift apart (a renamed field is a compile error in both).

use serde::{Deserialize, Serialize};

/// One line of a stock reservation as product answers it (`POST /internal/reservations`)
/// and order stores it: the product's name, price and currency when it was reserved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReservedItem {
    pub product_id: u64,
    pub quantity: u32,
    pub name: String,
    pub price: i64,
    pub currency: String,
}

/// Beside the standard error body of a refused reservation (409 `out_of_stock`): which
/// product was short, as a field (`{"error": {...}, "out_of_stock": {"product_id": 7}}`),
/// so the caller never reads it out of the message's text.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutOfStock {
    pub product_id: u64,
}

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
    fn the_short_product_is_a_field() {
        let body = serde_json::json!({
            "error": {"code": "out_of_stock", "message": "m", "trace_id": null},
            "out_of_stock": {"product_id": 7}
        });
        let short: OutOfStock = serde_json::from_value(body["out_of_stock"].clone()).unwrap();
        assert_eq!(short, OutOfStock { product_id: 7 });
    }
}
