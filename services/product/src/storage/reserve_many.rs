//! Several orders' reservations in one round trip and one transaction: the procedure
//! `reserve_many_v1` (migrations/0006), each order all or none as `reserve_v3` reserves
//! one. Concurrent checkouts reach the reservation together (routes/reserve_batch.rs).

use mysql_async::Pool;
use serde_json::Value;
use tracing::instrument;

use super::now_naive;
use super::reservations::{item, ItemRow, ReservationView};
use crate::domain::{Reservation, ReservationStatus};

/// What reserving one order of a batch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    Done(ReservationView),
    /// Some product lacks stock (or is gone): nothing of this order was reserved.
    OutOfStock {
        product_id: u64,
    },
    /// The order has a reservation already: nothing was written for it (the caller replays
    /// it the single way, `reservations::reserve`, which compares its items).
    Exists,
}

/// Reserves each of `orders` (sorted by order id, distinct; each checked by
/// [`Reservation::parse`]), in one transaction; one outcome per order, in their order. The
/// batch first locks every product it names, ascending (the order every reservation
/// locks them in), so it never deadlocks with another reservation.
#[instrument(skip_all, fields(orders = orders.len()))]
pub async fn reserve_many(
    pool: &Pool,
    orders: Vec<&Reservation>,
) -> Result<Vec<Reserved>, mysql_async::Error> {
    let json: Vec<(u64, Vec<(u64, u32)>)> = orders
        .iter()
        .map(|r| {
            let items = r.items.iter().map(|i| (i.product_id, i.quantity)).collect();
            (r.order_id, items)
        })
        .collect();
    let mut locks: Vec<u64> = orders
        .iter()
        .flat_map(|r| r.items.iter().map(|i| i.product_id))
        .collect();
    locks.sort_unstable();
    locks.dedup();
    let rows: Vec<(u64, String, Value)> = mall_store::batched::call(
        pool,
        "CALL reserve_many_v1(?, ?, ?)",
        vec![
            to_json(&json)?.into(),
            to_json(&locks)?.into(),
            now_naive().into(),
        ],
        orders.iter().map(|r| r.order_id),
        |r: &(u64, String, Value)| r.0,
    )
    .await?;
    rows.into_iter()
        .zip(orders)
        .map(|((_, outcome, detail), r)| decode(r, &outcome, detail))
        .collect()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, mysql_async::Error> {
    serde_json::to_string(value).map_err(|e| mysql_async::Error::Other(e.into()))
}

/// One order's entry of the answer, checked against what was asked of it.
fn decode(r: &Reservation, outcome: &str, detail: Value) -> Result<Reserved, mysql_async::Error> {
    let misshapen = || {
        mysql_async::Error::Other(
            format!(
                "reserve_many_v1 answered order {} with a misshapen {outcome}",
                r.order_id
            )
            .into(),
        )
    };
    match outcome {
        "exists" if detail.is_null() => Ok(Reserved::Exists),
        "out_of_stock" => {
            let product_id = detail.as_u64().ok_or_else(misshapen)?;
            Ok(Reserved::OutOfStock { product_id })
        }
        "reserved" => {
            let lines: Vec<ItemRow> = serde_json::from_value(detail).map_err(|_| misshapen())?;
            let same = lines.len() == r.items.len()
                && lines
                    .iter()
                    .zip(&r.items)
                    .all(|(l, i)| l.0 == i.product_id && l.1 == i.quantity);
            if !same {
                return Err(misshapen());
            }
            let items = lines.into_iter().map(item).collect();
            Ok(Reserved::Done(ReservationView {
                order_id: r.order_id,
                status: ReservationStatus::Reserved,
                items,
            }))
        }
        _ => Err(misshapen()),
    }
}
