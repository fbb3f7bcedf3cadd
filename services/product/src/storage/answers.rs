//! The reservation procedures' answers (migrations/0003), decoded. Each procedure says its
//! outcome as a value in its first column, `outcome`; a value this code does not know, a
//! status that is not a [`Status`], or an outcome that contradicts the domain's rule
//! ([`ReservationMove::effect_on`]) is an error, never a guess.

use mall_contracts::product::ReservedItem;

use crate::domain::{ItemQty, MoveEffect, ReservationMove, ReservationStatus as Status};

/// One row of `reserve_v2`'s answer: `outcome, product_id, name, price, currency`.
pub type ReserveRow = (String, u64, Option<String>, Option<i64>, Option<String>);

/// One row of `reservation_commit_v1`'s answer: `outcome, status`.
pub type CommitRow = (String, Option<String>);

/// One row of `reservation_release_v1`'s answer: `outcome, status, product_ids`.
pub type ReleaseRow = (String, Option<String>, Option<String>);

/// What `reserve_v2` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserved {
    /// The items, as reserved, in the order asked.
    Items(Vec<ReservedItem>),
    /// This product (the first short, deleted or unknown) lacks stock: nothing was kept.
    OutOfStock(u64),
}

/// `reserve_v2`'s answer to a reservation of `wanted` (in the order it sent them).
pub fn reserved(rows: Vec<ReserveRow>, wanted: &[ItemQty]) -> Result<Reserved, Error> {
    let outcomes = rows
        .iter()
        .map(|row| ReserveOutcome::parse(&row.0))
        .collect::<Result<Vec<_>, _>>()?;
    if let [ReserveOutcome::OutOfStock] = outcomes[..] {
        return match &rows[..] {
            [(_, product_id, None, None, None)] => Ok(Reserved::OutOfStock(*product_id)),
            _ => Err(error("an out_of_stock answer with item fields")),
        };
    }
    if outcomes.iter().any(|o| *o != ReserveOutcome::Reserved) || rows.len() != wanted.len() {
        return Err(error("the reservation answered other items than asked"));
    }
    rows.into_iter()
        .zip(wanted)
        .map(|(row, item)| match row {
            (_, product_id, Some(name), Some(price), Some(currency))
                if product_id == item.product_id =>
            {
                Ok(ReservedItem {
                    product_id,
                    quantity: item.quantity,
                    name,
                    price,
                    currency,
                })
            }
            _ => Err(error("the reservation answered other items than asked")),
        })
        .collect::<Result<_, _>>()
        .map(Reserved::Items)
}

/// What a commit or release did, checked against the domain's rule.
#[derive(Debug, PartialEq, Eq)]
pub enum Moved {
    /// Applied now: the reservation is at the move's target.
    Applied,
    /// At the move's target already: nothing written.
    AlreadyDone,
    /// Not allowed from this status: nothing written.
    Refused(Status),
    /// No reservation of this order.
    NotFound,
}

/// `reservation_commit_v1`'s answer.
pub fn committed((outcome, status): CommitRow) -> Result<Moved, Error> {
    moved(ReservationMove::Commit, &outcome, status.as_deref())
}

/// `reservation_release_v1`'s answer, and when it released now, the products whose stock
/// went back up.
pub fn released((outcome, status, products): ReleaseRow) -> Result<(Moved, Vec<u64>), Error> {
    let moved = moved(ReservationMove::Release, &outcome, status.as_deref())?;
    let products = match (&moved, products) {
        (Moved::Applied, Some(json)) => serde_json::from_str(&json)
            .map_err(|_| error(format!("a release answered product_ids {json:?}")))?,
        (Moved::Applied, None) => return Err(error("a release answered no product_ids")),
        (_, None) => Vec::new(),
        (_, Some(_)) => return Err(error(format!("a {outcome} release answered product_ids"))),
    };
    Ok((moved, products))
}

fn moved(m: ReservationMove, outcome: &str, status: Option<&str>) -> Result<Moved, Error> {
    let outcome = MoveOutcome::parse(outcome)?;
    let status = status.map(stored).transpose()?;
    let effect = status.map(|s| m.effect_on(s));
    match (outcome, status, effect) {
        (MoveOutcome::NotFound, None, _) => Ok(Moved::NotFound),
        // The status after the move: its target.
        (MoveOutcome::Moved, Some(s), _) if s == m.target() => Ok(Moved::Applied),
        // The status as found, nothing written: the domain must say the same.
        (MoveOutcome::Unchanged, Some(_), Some(MoveEffect::AlreadyDone)) => Ok(Moved::AlreadyDone),
        (MoveOutcome::Refused, Some(s), Some(MoveEffect::Refused)) => Ok(Moved::Refused(s)),
        _ => Err(error(format!(
            "{m:?} answered {} with status {status:?}, against the reservation's rule",
            outcome.as_str()
        ))),
    }
}

/// A stored status: anything but [`Status`]'s names is a row nothing should have written.
pub fn stored(s: &str) -> Result<Status, Error> {
    Status::parse(s).ok_or_else(|| error(format!("unknown reservation status {s:?}")))
}

pub type Error = mysql_async::Error;

fn error(message: impl Into<String>) -> Error {
    mysql_async::Error::Other(message.into().into())
}

/// `reserve_v2`'s `outcome` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReserveOutcome {
    Reserved,
    OutOfStock,
}

/// `reservation_commit_v1`'s and `reservation_release_v1`'s `outcome` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveOutcome {
    Moved,
    Unchanged,
    Refused,
    NotFound,
}

// === impl ReserveOutcome ===

impl ReserveOutcome {
    pub const ALL: [Self; 2] = [Self::Reserved, Self::OutOfStock];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::OutOfStock => "out_of_stock",
        }
    }

    /// Exactly one of [`Self::ALL`]'s names, or an error.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| error(format!("unknown reserve outcome {s:?}")))
    }
}

// === impl MoveOutcome ===

impl MoveOutcome {
    pub const ALL: [Self; 4] = [Self::Moved, Self::Unchanged, Self::Refused, Self::NotFound];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Moved => "moved",
            Self::Unchanged => "unchanged",
            Self::Refused => "refused",
            Self::NotFound => "not_found",
        }
    }

    /// Exactly one of [`Self::ALL`]'s names, or an error.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| error(format!("unknown reservation move outcome {s:?}")))
    }
}

#[cfg(test)]
#[path = "answers_tests.rs"]
mod tests;
