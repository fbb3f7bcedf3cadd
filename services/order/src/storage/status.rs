//! The two writes that change an order's status and add to its history together: creating
//! an order (`pending`, with its lines) and moving it from one status to another. Each is
//! one stored procedure (migrations 0003 and 0004), so one round trip with its transaction
//! inside MySQL, where it was four statements (START TRANSACTION, two writes, COMMIT) from
//! here.

use chrono::NaiveDateTime;
use mall_runtime::time::{now_naive, sql_datetime};
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use tracing::instrument;

use super::Item;
use crate::state::{FailureReason, Transition};

/// What a new order is made of: who ordered what, under which key, from where, and its
/// priced lines (the catalog's prices when the request was checked) with their total.
#[derive(Clone, Copy, Debug)]
pub struct NewOrder<'a> {
    pub user_id: u64,
    pub key: &'a str,
    pub hash: &'a str,
    pub currency: &'a str,
    pub from_cart: bool,
    pub lines: &'a [Item],
    pub total: i64,
}

/// A [`NewOrder`] of its own, as a batch of creations carries it ([`insert_many`]), with
/// the trace id of the request creating it and the time it is created at.
#[derive(Clone, Debug)]
pub struct Create {
    pub user_id: u64,
    pub key: String,
    pub hash: String,
    pub currency: String,
    pub from_cart: bool,
    pub lines: Vec<Item>,
    pub total: i64,
    pub trace_id: Option<String>,
    pub at: NaiveDateTime,
}

impl Create {
    /// `order`, created now by the current request.
    pub fn of(order: NewOrder<'_>, at: NaiveDateTime) -> Self {
        Self {
            user_id: order.user_id,
            key: order.key.to_owned(),
            hash: order.hash.to_owned(),
            currency: order.currency.to_owned(),
            from_cart: order.from_cart,
            lines: order.lines.to_vec(),
            total: order.total,
            trace_id: mall_runtime::trace::current().map(|t| t.to_string()),
            at,
        }
    }
}

/// [`insert_at`] for each of `orders`, in the order given, in one round trip and one
/// transaction: the procedure `order_create_many_v1` (migration 0007). Each order's id, or
/// `None` when its (user, key) exists already (then nothing of it was written). The caller
/// sends them sorted by (user, key), the unique key whose rows they lock.
#[instrument(skip_all, fields(orders = orders.len()))]
pub async fn insert_many(
    pool: &Pool,
    orders: &[Create],
) -> Result<Vec<Option<u64>>, mysql_async::Error> {
    let json: Vec<serde_json::Value> = orders
        .iter()
        .map(|o| {
            let items: Vec<serde_json::Value> = o
                .lines
                .iter()
                .map(|l| serde_json::json!([l.product_id, l.name, l.price, l.quantity]))
                .collect();
            serde_json::json!({
                "user_id": o.user_id,
                "key": o.key,
                "hash": o.hash,
                "currency": o.currency,
                "total": o.total,
                "from_cart": u8::from(o.from_cart),
                "trace_id": o.trace_id,
                "at": sql_datetime(o.at),
                "items": items,
            })
        })
        .collect();
    let json = serde_json::Value::Array(json).to_string();
    let rows: Vec<(u64, Option<u64>)> = mall_store::batched::call(
        pool,
        "CALL order_create_many_v1(?)",
        vec![json.into()],
        0..orders.len() as u64,
        |r: &(u64, Option<u64>)| r.0,
    )
    .await?;
    Ok(rows.into_iter().map(|(_, id)| id).collect())
}

/// A new pending order with its lines, at a given time (`created_at`, `updated_at` and the
/// first history row's); `Ok(None)` when (user, key) exists already. [`insert_one`].
#[instrument(skip_all, fields(user_id = order.user_id))]
pub async fn insert_at(
    pool: &Pool,
    order: NewOrder<'_>,
    at: NaiveDateTime,
) -> Result<Option<u64>, mysql_async::Error> {
    insert_one(pool, &Create::of(order, at)).await
}

/// One order, written as [`insert_many`] writes each of a batch's, in one round trip: the
/// procedure `order_create_v2` (migration 0004) inserts the order, its `pending` history
/// row and its lines in one transaction, from scalar parameters and the lines' JSON. A
/// batch of one costs MariaDB less this way than the batch procedure unpacking the whole
/// order from JSON (docs/performance.md "a batch of one"). A duplicate (user, key) reaches
/// us as the INSERT's own duplicate-key error, after the procedure rolled back: `Ok(None)`.
pub async fn insert_one(pool: &Pool, o: &Create) -> Result<Option<u64>, mysql_async::Error> {
    let lines = serde_json::to_string(&o.lines)
        .map_err(|e| mysql_async::Error::Other(format!("the order's lines: {e}").into()))?;
    let params: Vec<mysql_async::Value> = vec![
        o.user_id.into(),
        o.key.as_str().into(),
        o.hash.as_str().into(),
        o.currency.as_str().into(),
        o.total.into(),
        o.from_cart.into(),
        o.trace_id.as_deref().into(),
        o.at.into(),
        lines.into(),
    ];
    let created: Result<Option<u64>, _> = call(
        pool,
        "CALL order_create_v2(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params,
    )
    .await;
    match created {
        Ok(Some(id)) => Ok(Some(id)),
        Ok(None) => Err(mysql_async::Error::Other(
            "order_create_v2 answered no order id".into(),
        )),
        Err(e) if mall_store::db::is_duplicate_key(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Applies `change` (with history); false when the order was not in its `from` status.
#[instrument(skip_all, fields(order_id, to = change.to().as_str()))]
pub async fn transition(
    pool: &Pool,
    order_id: u64,
    change: Transition,
) -> Result<bool, mysql_async::Error> {
    transition_at(pool, order_id, change, now_naive()).await
}

/// [`transition`] at a given time (`updated_at` and the history row's).
///
/// One round trip: the procedure `order_transition` (migration 0003) makes the conditional
/// UPDATE and, only when it changed the row, inserts the history row, in one transaction.
/// The reason and payment overwrite only when the change carries them (`COALESCE`).
pub async fn transition_at(
    pool: &Pool,
    order_id: u64,
    change: Transition,
    at: NaiveDateTime,
) -> Result<bool, mysql_async::Error> {
    let changed: Option<i64> = call(
        pool,
        "CALL order_transition(?, ?, ?, ?, ?, ?)",
        (
            order_id,
            change.from().as_str(),
            change.to().as_str(),
            change.reason().map(FailureReason::as_str),
            change.payment_id(),
            at,
        ),
    )
    .await?;
    Ok(changed == Some(1))
}

/// One order's move of a [`transition_many`]: the order, the change and its time.
#[derive(Clone, Copy, Debug)]
pub struct Move {
    pub order_id: u64,
    pub change: Transition,
    pub at: NaiveDateTime,
}

/// [`transition_at`] for each of `moves`, in the order given, in one round trip and one
/// transaction: the procedure `order_transition_many_v2` (migration 0006). Whether each
/// changed its order, in the order of `moves`. The caller sends them by ascending order id
/// (the order rows are locked in).
#[instrument(skip_all, fields(moves = moves.len()))]
pub async fn transition_many(pool: &Pool, moves: &[Move]) -> Result<Vec<bool>, mysql_async::Error> {
    let json: Vec<serde_json::Value> = moves
        .iter()
        .map(|m| {
            serde_json::json!({
                "order_id": m.order_id,
                "from": m.change.from().as_str(),
                "to": m.change.to().as_str(),
                "reason": m.change.reason().map(FailureReason::as_str),
                "payment_id": m.change.payment_id(),
                "at": sql_datetime(m.at),
            })
        })
        .collect();
    let json = serde_json::Value::Array(json).to_string();
    let rows: Vec<(u64, i64)> = mall_store::batched::call(
        pool,
        "CALL order_transition_many_v2(?)",
        vec![json.into()],
        moves.iter().map(|m| m.order_id),
        |r: &(u64, i64)| r.0,
    )
    .await?;
    Ok(rows.into_iter().map(|(_, changed)| changed == 1).collect())
}

/// Calls one of the order's single procedures and reads the one-row answer it sends after
/// its COMMIT (on an error, the connection is made safe for the pool:
/// [`mall_store::db::after_procedure`]). Each holds its own transaction and rolls it back
/// whole on any error, so a deadlock's victim runs again ([`mall_store::deadlock::retry`]).
async fn call<T>(
    pool: &Pool,
    stmt: &str,
    params: impl Into<mysql_async::Params> + Send,
) -> Result<Option<T>, mysql_async::Error>
where
    T: mysql_async::prelude::FromRow + Send + 'static,
{
    let params: mysql_async::Params = params.into();
    mall_store::deadlock::retry(stmt, || async {
        let mut conn = mall_store::db::conn(pool).await?;
        let answer = conn.exec_first(stmt, params.clone()).await;
        mall_store::db::after_procedure(&mut conn, answer).await
    })
    .await
}
