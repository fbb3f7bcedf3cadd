//! A stock reservation for checkout (`POST /internal/reservations`), checked.

/// One line of a reservation and the request itself: the contract order sends
/// (`mall_contracts::product`).
pub use mall_contracts::product::{ItemQty, ReserveRequest as ReserveBody};

/// A checked reservation: 1–100 distinct products, quantities 1–999, sorted by product id
/// (rows are always locked in that order, so two reservations never deadlock).
#[derive(Debug, Clone)]
pub struct Reservation {
    pub order_id: u64,
    pub items: Vec<ItemQty>,
}

impl Reservation {
    pub fn parse(body: ReserveBody) -> Result<Self, String> {
        if body.order_id == 0 {
            return Err("order_id must be positive".into());
        }
        if body.items.is_empty() || body.items.len() > 100 {
            return Err("a reservation holds 1 to 100 products".into());
        }
        let mut items = body.items;
        if items
            .iter()
            .any(|i| i.quantity == 0 || i.quantity > 999 || i.product_id == 0)
        {
            return Err("quantities must be 1 to 999 of existing products".into());
        }
        items.sort_by_key(|i| i.product_id);
        if items.windows(2).any(|w| w[0].product_id == w[1].product_id) {
            return Err("each product may appear once".into());
        }
        Ok(Self {
            order_id: body.order_id,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_sorted_and_distinct() {
        let r = Reservation::parse(ReserveBody {
            order_id: 1,
            items: vec![
                ItemQty {
                    product_id: 9,
                    quantity: 1,
                },
                ItemQty {
                    product_id: 3,
                    quantity: 2,
                },
            ],
        })
        .expect("valid");
        assert_eq!(r.items[0].product_id, 3);
        let dup = ReserveBody {
            order_id: 1,
            items: vec![
                ItemQty {
                    product_id: 3,
                    quantity: 1,
                },
                ItemQty {
                    product_id: 3,
                    quantity: 2,
                },
            ],
        };
        assert!(Reservation::parse(dup).is_err());
        assert!(Reservation::parse(ReserveBody {
            order_id: 1,
            items: vec![]
        })
        .is_err());
    }
}

/// Where a reservation is (`reservations.status`, the internal API's `status`): the
/// contract's enum (`mall_contracts::product::ReservationStatus`, the only spelling of these
/// names in Rust), with its moves: `reserved` → `committed` (the order was paid); `reserved`
/// or `committed` → `released` (its stock went back: a failed or cancelled order). The
/// stored procedures that apply these moves (migrations/0003) spell the names and guards in
/// SQL; tests/api/reservation_rule.rs calls them from every status and checks them against
/// [`ReservationMove::effect_on`].
pub use mall_contracts::product::ReservationStatus;

/// A move of a reservation after its insert (which is `reserve`, into `reserved`): each
/// goes to one status, from the statuses [`ReservationStatus`] allows it from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReservationMove {
    /// `POST /internal/reservations/{id}/commit`.
    Commit,
    /// `POST /internal/reservations/{id}/release`: puts the stock back.
    Release,
}

/// What a move does to a reservation in a given status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveEffect {
    /// The move applies: the reservation goes to the move's target.
    Applies,
    /// The reservation is at the move's target already: nothing to do (a replay).
    AlreadyDone,
    /// The move is not allowed from there.
    Refused,
}

impl ReservationMove {
    pub const ALL: [Self; 2] = [Self::Commit, Self::Release];

    pub fn target(self) -> ReservationStatus {
        match self {
            Self::Commit => ReservationStatus::Committed,
            Self::Release => ReservationStatus::Released,
        }
    }

    /// The move from `from`: allowed as [`ReservationStatus`] says, idempotent at its
    /// target, refused anywhere else.
    pub fn effect_on(self, from: ReservationStatus) -> MoveEffect {
        let allowed = match self {
            Self::Commit => from.can_commit(),
            Self::Release => from.can_release(),
        };
        if allowed {
            MoveEffect::Applies
        } else if from == self.target() {
            MoveEffect::AlreadyDone
        } else {
            MoveEffect::Refused
        }
    }
}

#[cfg(test)]
mod move_tests {
    use super::{MoveEffect as E, ReservationMove as M, ReservationStatus as S};

    #[test]
    fn every_move_from_every_status() {
        let table = [
            (M::Commit, S::Reserved, E::Applies),
            (M::Commit, S::Committed, E::AlreadyDone),
            (M::Commit, S::Released, E::Refused),
            (M::Release, S::Reserved, E::Applies),
            (M::Release, S::Committed, E::Applies),
            (M::Release, S::Released, E::AlreadyDone),
        ];
        assert_eq!(table.len(), M::ALL.len() * S::ALL.len());
        for (m, from, effect) in table {
            assert_eq!(m.effect_on(from), effect, "{m:?} from {from:?}");
        }
    }
}
