//! Stock reservations for checkout: all items or none in one transaction, stock never
//! below zero (conditional updates), idempotent on the order id; commit and release are
//! idempotent too. Release of a committed reservation is the restock of a cancelled order.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Pool, TxOpts, Value};
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
    let mut tx = pool.start_transaction(TxOpts::default()).await?;
    let now = now_naive();
    // No look-up first: a reservation that exists (a replay, or a concurrent retry that got
    // there first) meets the primary key here. Replays are rare; a look-up would cost
    // every first attempt a round trip.
    let inserted = tx
        .exec_drop(
            "INSERT INTO reservations (order_id, status, created_at, updated_at) VALUES (?, 'reserved', ?, ?)",
            (r.order_id, now, now),
        )
        .await;
    match inserted {
        Ok(()) => {}
        Err(e) if mall_common::error::is_duplicate_key(&e) => {
            drop(tx);
            return match find(pool, r.order_id).await? {
                Some(existing) => Ok(same_or_mismatch(existing, &r.items)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    }
    // One conditional update per item, in product id order (the order every reservation
    // locks rows in): it is what keeps stock exact under concurrency, and the first item
    // short is the one named.
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
    }
    // The rows are locked by the updates above: what is read now is what was reserved.
    let ids: Vec<u64> = r.items.iter().map(|i| i.product_id).collect();
    let rows: Vec<(u64, String, i64, String)> = tx
        .exec(
            format!(
                "SELECT id, name, price, currency FROM products WHERE id IN ({})",
                marks("?", ids.len())
            ),
            ids,
        )
        .await?;
    let mut shown: HashMap<u64, (String, i64, String)> = rows
        .into_iter()
        .map(|(id, name, price, currency)| (id, (name, price, currency)))
        .collect();
    let mut items = Vec::with_capacity(r.items.len());
    let mut values: Vec<Value> = Vec::with_capacity(4 * r.items.len());
    for item in &r.items {
        let (name, price, currency) = shown
            .remove(&item.product_id)
            .ok_or_else(|| mysql_async::Error::Other("reserved product vanished".into()))?;
        values.extend([
            r.order_id.into(),
            item.product_id.into(),
            item.quantity.into(),
            price.into(),
        ]);
        items.push(ReservedItem {
            product_id: item.product_id,
            quantity: item.quantity,
            name,
            price,
            currency,
        });
    }
    tx.exec_drop(
        format!(
            "INSERT INTO reservation_items (order_id, product_id, quantity, price) VALUES {}",
            marks("(?, ?, ?, ?)", items.len())
        ),
        values,
    )
    .await?;
    tx.commit().await?;
    Ok(Reserve::Done(ReservationView {
        order_id: r.order_id,
        status: "reserved".into(),
        items,
    }))
}

/// `n` copies of the placeholder group `group`, comma-separated: the values themselves are
/// always bound as parameters.
fn marks(group: &str, n: usize) -> String {
    vec![group; n].join(", ")
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
    let mut conn = pool.get_conn().await?;
    loop {
        // The common case in one autocommit statement; the status is read only to tell
        // why nothing changed.
        conn.exec_drop(
            "UPDATE reservations SET status = 'committed', updated_at = ? WHERE order_id = ? AND status = 'reserved'",
            (now_naive(), order_id),
        )
        .await?;
        if conn.affected_rows() == 1 {
            return Ok(Transition::Done("committed".into()));
        }
        let status: Option<String> = conn
            .exec_first(
                "SELECT status FROM reservations WHERE order_id = ?",
                (order_id,),
            )
            .await?;
        match status.as_deref() {
            None => return Ok(Transition::NotFound),
            Some("committed") => return Ok(Transition::Done("committed".into())),
            // Reserved between the two statements: commit it after all. (A reservation is
            // `reserved` only once, from its insert, so this repeats at most once.)
            Some("reserved") => {}
            Some(other) => return Ok(Transition::Refused(format!("reservation is {other}"))),
        }
    }
}

/// `reserved` or `committed` → `released`, putting the stock back once (idempotent). An
/// unknown order id is released trivially (the order may have failed before reserving).
#[instrument(skip_all, fields(order_id))]
pub async fn release(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    let mut tx = pool.start_transaction(TxOpts::default()).await?;
    // The reservation and its items, locked (a concurrent release of the same order waits
    // here, then finds it released): one row per item, the status on each.
    let rows: Vec<(String, Option<u64>)> = tx
        .exec(
            "SELECT r.status, ri.product_id FROM reservations r
             LEFT JOIN reservation_items ri ON ri.order_id = r.order_id
             WHERE r.order_id = ? ORDER BY ri.product_id FOR UPDATE",
            (order_id,),
        )
        .await?;
    match rows.first().map(|(status, _)| status.as_str()) {
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
    let now = now_naive();
    // Driven by the items' primary key (order_id, product_id), so the products are
    // locked in id order, as a reservation locks them.
    tx.exec_drop(
        "UPDATE products p JOIN reservation_items ri ON ri.product_id = p.id
         SET p.stock = p.stock + ri.quantity, p.updated_at = ?
         WHERE ri.order_id = ?",
        (now, order_id),
    )
    .await?;
    tx.exec_drop(
        "UPDATE reservations SET status = 'released', updated_at = ? WHERE order_id = ?",
        (now, order_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Transition::Restocked(
        rows.into_iter()
            .filter_map(|(_, product_id)| product_id)
            .collect(),
    ))
}
