//! Stock reservations for checkout: all items or none in one transaction, stock never
//! below zero (conditional updates), idempotent on the order id; commit and release are
//! idempotent too. Release of a committed reservation is the restock of a cancelled order.

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts};
use serde::Serialize;
use tracing::instrument;

use super::now_naive;
use crate::domain::{ItemQty, Reservation};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReservedItem {
    pub product_id: u64,
    pub quantity: u32,
    pub name: String,
    pub price: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReservationView {
    pub order_id: u64,
    pub status: String,
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

#[instrument(skip_all, fields(order_id = r.order_id))]
pub async fn reserve(pool: &Pool, r: &Reservation) -> Result<Reserve, mysql_async::Error> {
    if let Some(existing) = find(pool, r.order_id).await? {
        return Ok(same_or_mismatch(existing, &r.items));
    }
    let mut tx = pool.start_transaction(TxOpts::default()).await?;
    let now = now_naive();
    let inserted = tx
        .exec_drop(
            "INSERT INTO reservations (order_id, status, created_at, updated_at) VALUES (?, 'reserved', ?, ?)",
            (r.order_id, now, now),
        )
        .await;
    match inserted {
        Ok(()) => {}
        // A concurrent retry with the same order id got there first.
        Err(e) if mall_common::error::is_duplicate_key(&e) => {
            drop(tx);
            return match find(pool, r.order_id).await? {
                Some(existing) => Ok(same_or_mismatch(existing, &r.items)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    }
    let mut items = Vec::with_capacity(r.items.len());
    for item in &r.items {
        tx.exec_drop(
            "UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL AND stock >= ?",
            (item.quantity, now, item.product_id, item.quantity),
        )
        .await?;
        if tx.affected_rows() != 1 {
            tx.rollback().await?;
            return Ok(Reserve::OutOfStock {
                product_id: item.product_id,
            });
        }
        let row: Option<(String, i64, String)> = tx
            .exec_first(
                "SELECT name, price, currency FROM products WHERE id = ?",
                (item.product_id,),
            )
            .await?;
        let (name, price, currency) =
            row.ok_or_else(|| mysql_async::Error::Other("reserved product vanished".into()))?;
        tx.exec_drop(
            "INSERT INTO reservation_items (order_id, product_id, quantity, price) VALUES (?, ?, ?, ?)",
            (r.order_id, item.product_id, item.quantity, price),
        )
        .await?;
        items.push(ReservedItem {
            product_id: item.product_id,
            quantity: item.quantity,
            name,
            price,
            currency,
        });
    }
    tx.commit().await?;
    Ok(Reserve::Done(ReservationView {
        order_id: r.order_id,
        status: "reserved".into(),
        items,
    }))
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
    let mut conn = pool.get_conn().await?;
    let status: Option<String> = conn
        .exec_first(
            "SELECT status FROM reservations WHERE order_id = ?",
            (order_id,),
        )
        .await?;
    let Some(status) = status else {
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

/// What a commit or release found.
pub enum Transition {
    Done(String),
    /// Released now: the stock of these products went back up.
    Restocked(Vec<u64>),
    NotFound,
    Refused(String),
}

/// `reserved` → `committed` (idempotent).
#[instrument(skip_all, fields(order_id))]
pub async fn commit(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    let mut tx = pool.start_transaction(TxOpts::default()).await?;
    let status: Option<String> = tx
        .exec_first(
            "SELECT status FROM reservations WHERE order_id = ? FOR UPDATE",
            (order_id,),
        )
        .await?;
    let outcome = match status.as_deref() {
        None => Transition::NotFound,
        Some("committed") => Transition::Done("committed".into()),
        Some("reserved") => {
            tx.exec_drop(
                "UPDATE reservations SET status = 'committed', updated_at = ? WHERE order_id = ?",
                (now_naive(), order_id),
            )
            .await?;
            Transition::Done("committed".into())
        }
        Some(other) => Transition::Refused(format!("reservation is {other}")),
    };
    tx.commit().await?;
    Ok(outcome)
}

/// `reserved` or `committed` → `released`, putting the stock back once (idempotent). An
/// unknown order id is released trivially (the order may have failed before reserving).
#[instrument(skip_all, fields(order_id))]
pub async fn release(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    let mut tx = pool.start_transaction(TxOpts::default()).await?;
    let status: Option<String> = tx
        .exec_first(
            "SELECT status FROM reservations WHERE order_id = ? FOR UPDATE",
            (order_id,),
        )
        .await?;
    match status.as_deref() {
        None => {
            tx.commit().await?;
            return Ok(Transition::Done("none".into()));
        }
        Some("released") => {
            tx.commit().await?;
            return Ok(Transition::Done("released".into()));
        }
        _ => {}
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
        "UPDATE reservations SET status = 'released', updated_at = ? WHERE order_id = ?",
        (now, order_id),
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
