//! Stock reservations for checkout: all items or none in one transaction, stock never
//! below zero (conditional updates), idempotent on the order id; commit and release are
//! idempotent too. Release of a committed reservation is the restock of a cancelled order.
//! Each of the three is one CALL of a stored procedure (migrations/0003) that holds its own
//! transaction; `answers` decodes what each says.

use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Pool};
use tracing::instrument;

pub use mall_contracts::product::ReservedItem;

pub use super::answers::Moved;
use super::answers::{self, Reserved};
use super::now_naive;
use crate::domain::{ItemQty, Reservation, ReservationStatus as Status};

/// A reservation as product answers it: the contract order reads.
pub use mall_contracts::product::Reservation as ReservationView;

pub enum Reserve {
    Done(ReservationView),
    /// Some product lacks stock (or is gone): nothing was reserved.
    OutOfStock {
        product_id: u64,
    },
    /// The order id was reserved before with other items.
    Mismatch,
}

/// The stored procedure (migrations/0005, v3 of 0003's reserve_v2) that reserves in one round trip: the
/// reservation row, one conditional update per item in the order given, the items with
/// the prices of the rows it holds, all in its own transaction. Its rows say their outcome
/// in their first column (`answers::reserved` decodes them). Any SQL error rolls back and
/// reaches us unchanged, the duplicate key of a replay included.
const RESERVE: &str = "CALL reserve_v3(?, ?, ?)";

#[instrument(skip_all, fields(order_id = r.order_id))]
pub async fn reserve(pool: &Pool, r: &Reservation) -> Result<Reserve, mysql_async::Error> {
    let called = mall_store::deadlock::retry(RESERVE, || async {
        let mut conn = mall_store::db::conn(pool).await?;
        let called = call_reserve(&mut conn, r).await;
        mall_store::db::after_procedure(&mut conn, called).await
    })
    .await;
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
    let rows: Vec<answers::ReserveRow> = misshapen_is_error(result.try_collect().await?)?;
    // The rest of the answer: the CALL's own closing packet, or an error the procedure
    // raised after its result set (a failed commit). Read to the end, so the connection
    // goes back to the pool with nothing pending.
    result.drop_result().await?;
    Ok(match answers::reserved(rows, &r.items)? {
        Reserved::OutOfStock(product_id) => Reserve::OutOfStock { product_id },
        Reserved::Items(items) => Reserve::Done(ReservationView {
            order_id: r.order_id,
            status: Status::Reserved,
            items,
        }),
    })
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
    let status = stored_status(&mut conn, order_id).await?;
    let Some(status) = status.as_deref().map(answers::stored).transpose()? else {
        return Ok(None);
    };
    let rows: Vec<ItemRow> = conn
        .exec(
            "SELECT ri.product_id, ri.quantity, p.name, ri.price, p.currency
             FROM reservation_items ri JOIN products p ON p.id = ri.product_id
             WHERE ri.order_id = ? ORDER BY ri.product_id",
            (order_id,),
        )
        .await?;
    let items = rows.into_iter().map(item).collect();
    Ok(Some(ReservationView {
        order_id,
        status,
        items,
    }))
}

/// The reservation's status as stored (`None`: no reservation of this order).
async fn stored_status(
    conn: &mut Conn,
    order_id: u64,
) -> Result<Option<String>, mysql_async::Error> {
    conn.exec_first(
        "SELECT status FROM reservations WHERE order_id = ?",
        (order_id,),
    )
    .await
}

/// A reserved line as read: product_id, quantity, name, price, currency.
pub(super) type ItemRow = (u64, u32, String, i64, String);

pub(super) fn item((product_id, quantity, name, price, currency): ItemRow) -> ReservedItem {
    ReservedItem {
        product_id,
        quantity,
        name,
        price,
        currency,
    }
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

/// `reserved` → `committed` (idempotent): [`commit_one`].
#[instrument(skip_all, fields(order_id))]
pub async fn commit(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    Ok(match commit_one(pool, order_id).await? {
        Moved::Applied | Moved::AlreadyDone => Transition::Done(Some(Status::Committed)),
        Moved::Refused(status) => refused(status),
        Moved::NotFound => Transition::NotFound,
    })
}

/// `reserved` → `committed` as the procedure `reservation_commit_v1` (migrations/0003)
/// does it, in its two statements sent as they are: the conditional UPDATE, committed on
/// its own; only when it changed nothing, the status read to say why (a concurrent move
/// after the UPDATE can only have gone forward, which the answer then names). A CALL
/// costs MariaDB about 65 µs more than the statement alone (docs/performance.md), and 9
/// in 10 checkouts end after the UPDATE. The answer is checked against the domain's rule
/// as the procedure's is (`answers::committed`).
async fn commit_one(pool: &Pool, order_id: u64) -> Result<Moved, mysql_async::Error> {
    let moved = mall_store::db::changed_one(
        pool,
        "UPDATE reservations SET status = 'committed', updated_at = ?
         WHERE order_id = ? AND status = 'reserved'",
        (now_naive(), order_id),
    )
    .await?;
    if moved {
        return answers::committed(("moved".into(), Some("committed".into())));
    }
    let mut conn = mall_store::db::conn(pool).await?;
    let status = stored_status(&mut conn, order_id).await?;
    let outcome = match status.as_deref() {
        None => "not_found",
        Some("committed") => "unchanged",
        Some(_) => "refused",
    };
    answers::committed((outcome.into(), status))
}

/// [`commit`] for each of `order_ids` (ascending, distinct), in one round trip and one
/// transaction: the procedure `reservation_commit_many_v2` (migrations/0005). The
/// outcomes are in the order of `order_ids`, each checked against the domain's rule. One
/// id is [`commit_one`] (`mall_store::batched::one_or_many`).
#[instrument(skip_all, fields(orders = order_ids.len()))]
pub async fn commit_many(pool: &Pool, order_ids: &[u64]) -> Result<Vec<Moved>, mysql_async::Error> {
    let one = |id: &u64| commit_one(pool, *id);
    mall_store::batched::one_or_many(order_ids, one, |ids| commit_call(pool, ids)).await
}

async fn commit_call(pool: &Pool, order_ids: &[u64]) -> Result<Vec<Moved>, mysql_async::Error> {
    let ids = serde_json::to_string(order_ids).map_err(|e| mysql_async::Error::Other(e.into()))?;
    let rows: Vec<(u64, String, Option<String>)> = mall_store::batched::call(
        pool,
        "CALL reservation_commit_many_v2(?, ?)",
        vec![ids.into(), now_naive().into()],
        order_ids.iter().copied(),
        |r: &(u64, String, Option<String>)| r.0,
    )
    .await?;
    rows.into_iter()
        .map(|(_, outcome, status)| answers::committed((outcome, status)))
        .collect()
}

/// `reserved` or `committed` → `released`, putting the stock back once (idempotent), in
/// one round trip: the procedure `reservation_release_v1` (migrations/0003). An unknown
/// order id is released trivially (the order may have failed before reserving).
#[instrument(skip_all, fields(order_id))]
pub async fn release(pool: &Pool, order_id: u64) -> Result<Transition, mysql_async::Error> {
    let row: answers::ReleaseRow =
        call_move(pool, "CALL reservation_release_v1(?, ?)", order_id).await?;
    Ok(match answers::released(row)? {
        (Moved::Applied, products) => Transition::Restocked(products),
        (Moved::AlreadyDone, _) => Transition::Done(Some(Status::Released)),
        (Moved::Refused(status), _) => refused(status),
        (Moved::NotFound, _) => Transition::Done(None),
    })
}

fn refused(status: Status) -> Transition {
    Transition::Refused(format!("reservation is {}", status.as_str()))
}

/// Calls a move's procedure for `order_id` and reads its one row, to the end of the answer;
/// again when it was a deadlock's victim (the procedure rolled back whole).
async fn call_move<T: FromRow + Send + 'static>(
    pool: &Pool,
    call: &str,
    order_id: u64,
) -> Result<T, mysql_async::Error> {
    mall_store::deadlock::retry(call, || async {
        let mut conn = mall_store::db::conn(pool).await?;
        let called = read_one_row(&mut conn, call, order_id).await;
        mall_store::db::after_procedure(&mut conn, called).await
    })
    .await
}

async fn read_one_row<T: FromRow + Send + 'static>(
    conn: &mut Conn,
    call: &str,
    order_id: u64,
) -> Result<T, mysql_async::Error> {
    let mut result = conn.exec_iter(call, (order_id, now_naive())).await?;
    let rows: Vec<T> = misshapen_is_error(result.try_collect().await?)?;
    result.drop_result().await?;
    let mut rows = rows.into_iter();
    match (rows.next(), rows.next()) {
        (Some(row), None) => Ok(row),
        _ => Err(mysql_async::Error::Other(
            format!("{call} answered other than one row").into(),
        )),
    }
}

/// Rows read as `T` (`try_collect`, not `collect`, which panics): a misshapen row is an
/// error, not a panic.
fn misshapen_is_error<T>(
    rows: Vec<Result<T, mysql_async::FromRowError>>,
) -> Result<Vec<T>, mysql_async::Error> {
    rows.into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| mysql_async::Error::Other(e.into()))
}
