//! An order's states and the only moves between them (docs/checkout.md). The statuses and
//! failure reasons are stored and sent as the strings below, and nowhere else spelled out:
//! the saga, the reconciler, the routes and storage all go through these types, and storage
//! writes a status change only as a [`Transition`].
//!
//! ```text
//!   pending ──Pay──▶ paid ──Cancel──▶ cancelled
//!      └────Fail(reason)──▶ failed
//! ```

use serde::Serialize;

/// Where an order is (`orders.status`, the API's `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created; stock and payment not settled yet (a request or the reconciler settles it).
    Pending,
    /// Charged, stock committed.
    Paid,
    /// Never charged or declined; its stock was released. Final.
    Failed,
    /// Refunded and restocked. Final.
    Cancelled,
}

impl Status {
    pub const ALL: [Self; 4] = [Self::Pending, Self::Paid, Self::Failed, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// Why an order failed (`orders.failure_reason`; the answer's error code is chosen from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    /// A product had less stock than ordered; nothing was reserved or charged.
    OutOfStock,
    /// The reserved products were priced in more than one currency.
    MixedCurrency,
    /// The reserved lines add up to more than the mall can charge.
    TotalTooLarge,
    /// The card gateway declined the charge.
    PaymentDeclined,
    /// The charge never reached the payment service (found by the reconciler).
    NotCharged,
}

impl FailureReason {
    pub const ALL: [Self; 5] = [
        Self::OutOfStock,
        Self::MixedCurrency,
        Self::TotalTooLarge,
        Self::PaymentDeclined,
        Self::NotCharged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfStock => "out_of_stock",
            Self::MixedCurrency => "mixed_currency",
            Self::TotalTooLarge => "total_too_large",
            Self::PaymentDeclined => "payment_declined",
            Self::NotCharged => "not_charged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == s)
    }
}

/// A status change: the only ones there are. Storage applies one only to an order still in
/// [`Transition::from`] (a conditional update), so a request and the reconciler settling
/// the same order never both win.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// pending → paid: the charge was approved and the stock committed.
    Pay { payment_id: u64 },
    /// pending → failed, with why (and the declined payment when there is one).
    Fail {
        reason: FailureReason,
        payment_id: Option<u64>,
    },
    /// paid → cancelled: refunded and restocked.
    Cancel,
}

impl Transition {
    /// A failure before any payment existed.
    pub fn fail(reason: FailureReason) -> Self {
        Self::Fail {
            reason,
            payment_id: None,
        }
    }

    pub fn from(self) -> Status {
        match self {
            Self::Pay { .. } | Self::Fail { .. } => Status::Pending,
            Self::Cancel => Status::Paid,
        }
    }

    pub fn to(self) -> Status {
        match self {
            Self::Pay { .. } => Status::Paid,
            Self::Fail { .. } => Status::Failed,
            Self::Cancel => Status::Cancelled,
        }
    }

    /// Written with the change (an earlier reason is kept when `None`).
    pub fn reason(self) -> Option<FailureReason> {
        match self {
            Self::Fail { reason, .. } => Some(reason),
            Self::Pay { .. } | Self::Cancel => None,
        }
    }

    /// Written with the change (an earlier payment is kept when `None`).
    pub fn payment_id(self) -> Option<u64> {
        match self {
            Self::Pay { payment_id } => Some(payment_id),
            Self::Fail { payment_id, .. } => payment_id,
            Self::Cancel => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY: [Transition; 3] = [
        Transition::Pay { payment_id: 1 },
        Transition::Fail {
            reason: FailureReason::PaymentDeclined,
            payment_id: Some(1),
        },
        Transition::Cancel,
    ];

    #[test]
    fn names_are_stored_and_read_back() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in FailureReason::ALL {
            assert_eq!(FailureReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Status::parse("PENDING"), None);
        assert_eq!(Status::parse("refunded"), None);
        assert_eq!(FailureReason::parse("earlier"), None);
    }

    #[test]
    fn only_pending_and_paid_orders_move_and_nothing_moves_back_to_pending() {
        for t in EVERY {
            assert_ne!(t.from(), t.to(), "{t:?}");
            assert_ne!(t.to(), Status::Pending, "{t:?}");
            assert!(matches!(t.from(), Status::Pending | Status::Paid), "{t:?}");
        }
        for terminal in [Status::Failed, Status::Cancelled] {
            assert!(EVERY.iter().all(|t| t.from() != terminal), "{terminal:?}");
        }
    }

    #[test]
    fn a_transition_carries_what_it_writes() {
        assert_eq!(Transition::Pay { payment_id: 7 }.payment_id(), Some(7));
        assert_eq!(Transition::Pay { payment_id: 7 }.reason(), None);
        let failed = Transition::fail(FailureReason::OutOfStock);
        assert_eq!(
            (failed.from(), failed.to()),
            (Status::Pending, Status::Failed)
        );
        assert_eq!(failed.reason(), Some(FailureReason::OutOfStock));
        assert_eq!(failed.payment_id(), None);
        assert_eq!(
            (Transition::Cancel.from(), Transition::Cancel.to()),
            (Status::Paid, Status::Cancelled)
        );
    }
}
