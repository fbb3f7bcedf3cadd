//! Stock reservations for checkout: all items or none in one transaction, stock never
//! below zero (conditional updates), idempotent on the order id; commit and release are
//! idempotent too. Release of a committed reservation is the restock of a cancelled order.

use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Pool, Row};
use serde::Serialize;
use tracing::instrument;

pub use mall_contracts::product::ReservedItem;

use super::now_naive;
use crate::domain::{ItemQty, Reservation, ReservationStatus as Status};

#[derive(Debug, Clone, Serialize)]
pub struct ReservationView {
    pub order_id: u64,
    pub status: Status,
    pub items: Vec<ReservedItem>,
}

pub enum Reserve {
    Done(ReservationView),
    /// Some product lacks stock (or is gone): nothing was reserved.
    OutOfStock {
        product_id: u64,
    },
    /// The order id was reserved before with other items.
    Mismatch,
}

/// The stored procedure (migrations/0002) that reserves in one round trip: the
/// reservation row, one conditional update per item in the order given, the items with
/// the prices of the rows it holds, all in its own transaction. It answers one result set:
/// either `out_of_stock` (the first product short, everything rolled back) or the items as
/// `product_id, name, price, currency` in the order given. Any SQL error rolls back and
/// reaches us unchanged, the duplicate key of a replay included.
const RESERVE: &str = "CALL reserve_v1(?, ?, ?)";

#[instrument(skip_all, fields(order_id = r.order_id))]
pub async fn reserve(pool: &Pool, r: &Reservation) -> Result<Reserve, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let called = call_reserve(&mut conn, r).await;
    let called = mall_store::db::after_procedure(&mut conn, called).await;
    drop(conn);
    match called {
        // A reservation that exists (a replay, or a concurrent retry that got there first)
        // meets the primary key in the procedure, which rolled back. No look-up first:
        // replays are rare, and a look-up would cost every first attempt a round trip.
        Err(e) if mall_store::db::is_duplicate_key(&e) => match find(pool, r.order_id).await? {
            Some(existing) => Ok(same_or_mismatch(existing, &r.items)),
            None => Err(e),
        },
        other => other,
    }
}

async fn call_reserve(conn: &mut Conn, r: &Reservation) -> Result<Reserve, mysql_async::Error> {
    // `[[product_id, quantity], …]`, in the reservation's order (product id order, the
    // order every reservation locks rows in).
    let items: Vec<(u64, u32)> = r.items.iter().map(|i| (i.product_id, i.quantity)).collect();
    let items = serde_json::to_string(&items).map_err(|e| mysql_async::Error::Other(e.into()))?;
    let mut result = conn
        .exec_iter(RESERVE, (r.order_id, items, now_naive()))
        .await?;
    let rows: Vec<Row> = result.collect().await?;
    // The rest of the answer: the CALL's own closing packet, or an error the procedure
    // raised after its result set (a failed commit). Read to the end, so the connection
    // goes back to the pool with nothing pending.
    result.drop_result().await?;
    if let Some(row) = rows.first().filter(|row| names_a_short_item(row)) {
        let (product_id,): (u64,) = read_row(row.clone())?;
        return Ok(Reserve::OutOfStock { product_id });
    }
    if rows.len() != r.items.len() {
        return Err(mysql_async::Error::Other(
            "the reservation answered other items than asked".into(),
        ));
    }
    let mut items = Vec::with_capacity(r.items.len());
    for (item, row) in r.items.iter().zip(rows) {
        let (product_id, name, price, currency): (u64, String, i64, String) = read_row(row)?;
        if product_id != item.product_id {
            return Err(mysql_async::Error::Other(
                "the reservation answered other items than asked".into(),
            ));
        }
        items.push(ReservedItem {
            product_id,
            quantity: item.quantity,
            name,
            price,
            currency,
        });
    }
    Ok(Reserve::Done(ReservationView {
        order_id: r.order_id,
        status: Status::Reserved,
        items,
    }))
}

/// The procedure's answer when an item is short: one row, one column `out_of_stock`.
fn names_a_short_item(row: &Row) -> bool {
    row.columns_ref()
        .first()
        .is_some_and(|column| column.name_str() == "out_of_stock")
}

/// A row of the procedure's answer as `T`: a misshapen row is an error, not a panic.
fn read_row<T: FromRow>(row: Row) -> Result<T, mysql_async::Error> {
    mysql_async::from_row_opt(row).map_err(|e| mysql_async::Error::Other(e.into()))
}

fn same_or_mismatch(existing: ReservationView, wanted: &[ItemQty]) -> Reserve {
    let same = existing.items.len() == wanted.len()
        && existing
            .items
            .iter()
            .zip(wanted)
            .all(|(a, b)| a.product_id == b.product_id && a.quantity == b.quantity);
    if same {
        Reserve::Done(existing)
    } else {
        Reserve::Mismatch
    }
}

#[instrument(skip_all, fields(order_id))]
pub async fn find(
    pool: &Pool,
    order_id: u64,
) -> Result<Option<ReservationView>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let status: Option<String> = conn
        .exec_first(
            "SELECT status FROM reservations WHERE order_id = ?",
            (order_id,),
        )
        .await?;
    let Some(status) = status.as_deref().map(stored).transpose()? else {
        return Ok(None);
    };
    let rows: Vec<(u64, u32, i64, String, String)> = conn
        .exec(
            "SELECT ri.product_id, ri.quantity, ri.price, p.name, p.currency
             FROM reservation_items ri JOIN products p ON p.id = ri.product_id
             WHERE ri.order_id = ? ORDER BY ri.product_id",
            (order_id,),
        )
        .await?;
    let items = rows
        .into_iter()
        .map(
            |(product_id, quantity, price, name, currency)| ReservedItem {
                product_id,
                quantity,
                name,
                price,
                currency,
            },
        )
        .collect();
    Ok(Some(ReservationView {
        order_id,
        status,
        items,
    }))
}

/// A stored status: anything but [`Status`]'s names is a row nothing should have written.
fn stored(s: &str) -> Result<Status, mysql_async::Error> {
    Status::parse(s).ok_or_else(|| {
        mysql_async::Error::Other(format!("unknown reservation status {s:?}").into())
    })
}

/// What a commit or release found.
pub enum Transition {
    /// Nothing to do: the reservation is in this status already (`None`: a release of an
    /// order that never reserved).
    Done(Option<Status>),
    /// Released now: the stock of these products went back up.
    Restocked(Vec<u64>),
    NotFound,
    Refused(String),
}

/// `reserved` → `committed` (idempotent).
#[instrument(skip_all, fields(order_id))]
pub async fn commit(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    loop {
        // The common case in one autocommit statement; the status is read only to tell
        // why nothing changed.
        conn.exec_drop(
            "UPDATE reservations SET status = ?, updated_at = ? WHERE order_id = ? AND status = ?",
            (
                Status::Committed.as_str(),
                now_naive(),
                order_id,
                Status::Reserved.as_str(),
            ),
        )
        .await?;
        if conn.affected_rows() == 1 {
            return Ok(Transition::Done(Some(Status::Committed)));
        }
        let status: Option<String> = conn
            .exec_first(
                "SELECT status FROM reservations WHERE order_id = ?",
                (order_id,),
            )
            .await?;
        match status.as_deref().map(stored).transpose()? {
            None => return Ok(Transition::NotFound),
            Some(Status::Committed) => return Ok(Transition::Done(Some(Status::Committed))),
            // Reserved between the two statements: commit it after all. (A reservation is
            // `reserved` only once, from its insert, so this repeats at most once.)
            Some(s) if s.can_commit() => {}
            Some(other) => {
                let why = format!("reservation is {}", other.as_str());
                return Ok(Transition::Refused(why));
            }
        }
    }
}

/// `reserved` or `committed` → `released`, putting the stock back once (idempotent). An
/// unknown order id is released trivially (the order may have failed before reserving).
#[instrument(skip_all, fields(order_id))]
pub async fn release(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    let mut tx = mall_store::db::transaction(pool).await?;
    // Only the reservation's own row is locked; its items are read without locks. Locking
    // the items too (FOR UPDATE over reservation_items, to save statements) took next-key
    // locks up to the end of that index, where concurrent reservations insert their items
    // while holding the product rows this restock needs: deadlocks under load (test
    // `declines_of_one_hot_product_at_once_never_deadlock`).
    let status: Option<String> = tx
        .exec_first(
            "SELECT status FROM reservations WHERE order_id = ? FOR UPDATE",
            (order_id,),
        )
        .await?;
    match status.as_deref().map(stored).transpose()? {
        None => {
            tx.commit().await?;
            return Ok(Transition::Done(None));
        }
        Some(s) if !s.can_release() => {
            tx.commit().await?;
            return Ok(Transition::Done(Some(s)));
        }
        Some(_) => {}
    }
    let items: Vec<(u64, u32)> = tx
        .exec(
            "SELECT product_id, quantity FROM reservation_items WHERE order_id = ? ORDER BY product_id",
            (order_id,),
        )
        .await?;
    let now = now_naive();
    for &(product_id, quantity) in &items {
        tx.exec_drop(
            "UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ?",
            (quantity, now, product_id),
        )
        .await?;
    }
    tx.exec_drop(
        "UPDATE reservations SET status = ?, updated_at = ? WHERE order_id = ?",
        (Status::Released.as_str(), now, order_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Transition::Restocked(
        items
            .into_iter()
            .map(|(product_id, _)| product_id)
            .collect(),
    ))
}
