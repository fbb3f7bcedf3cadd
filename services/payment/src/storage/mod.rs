//! The `payments` table. Every state change is a conditional update (`WHERE status = …`),
//! so concurrent settlers cannot overwrite one another: the first fact wins and the others
//! read it back.

use chrono::NaiveDateTime;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use tracing::instrument;

use crate::domain::{NewPayment, Status};

mod batched;

pub use batched::Batches;
use batched::{NewRow, SettleMove};

pub const MIGRATIONS: &[mall_store::db::Migration] = &[
    mall_store::db::Migration {
        version: 1,
        name: "payments",
        sql: include_str!("../../migrations/0001_payments.sql"),
    },
    mall_store::db::Migration {
        version: 2,
        name: "procedures: a batch of new payments, a batch of settlements",
        sql: include_str!("../../migrations/0002_payment_batches.sql"),
    },
    mall_store::db::Migration {
        version: 3,
        name: "procedures: payment batches v2 (their answers in one value)",
        sql: include_str!("../../migrations/0003_payment_batches_v2.sql"),
    },
];

const COLUMNS: &str =
    "id, order_id, user_id, amount, currency, status, gateway_charge_id, created_at, updated_at";

/// A stored payment. `updated_at` is the time of the last charge attempt or state change.
#[derive(Clone, Debug)]
pub struct Payment {
    pub id: u64,
    pub order_id: u64,
    pub user_id: u64,
    pub amount: i64,
    pub currency: String,
    pub status: Status,
    pub gateway_charge_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

type Row = (
    u64,
    u64,
    u64,
    i64,
    String,
    String,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

fn from_row(r: Row) -> Result<Payment, mysql_async::Error> {
    let status = Status::parse(&r.5).ok_or_else(|| {
        mysql_async::Error::Other(format!("unknown payment status {:?}", r.5).into())
    })?;
    Ok(Payment {
        id: r.0,
        order_id: r.1,
        user_id: r.2,
        amount: r.3,
        currency: r.4,
        status,
        gateway_charge_id: r.6,
        created_at: r.7,
        updated_at: r.8,
    })
}

/// What `insert_pending` found.
pub enum Inserted {
    New(Payment),
    /// The order already has a payment (an earlier or concurrent call).
    Existing(Payment),
}

/// Inserts the order's payment as `pending`, or returns the one it already has. The
/// unique key on `order_id` decides between concurrent callers. A new payment is answered
/// as written, so `now` is in the stored form ([`mall_runtime::time::now_naive`]). Batched
/// with concurrent charges' inserts (storage/batched.rs).
#[instrument(skip_all, fields(order_id = p.order_id))]
pub async fn insert_pending(
    batches: &Batches,
    pool: &Pool,
    p: &NewPayment,
    now: NaiveDateTime,
) -> anyhow::Result<Inserted> {
    let row = NewRow {
        order_id: p.order_id,
        user_id: p.user_id,
        amount: p.amount,
        currency: p.currency.clone(),
        now,
    };
    match batches.create(row).await? {
        // The row as just written (the currency was checked to be three ASCII capitals,
        // which CHAR(3) keeps as is): no need to read it back.
        Some(id) => Ok(Inserted::New(Payment {
            id,
            order_id: p.order_id,
            user_id: p.user_id,
            amount: p.amount,
            currency: p.currency.clone(),
            status: Status::Pending,
            gateway_charge_id: None,
            created_at: now,
            updated_at: now,
        })),
        None => match find_by_order(pool, p.order_id).await? {
            Some(existing) => Ok(Inserted::Existing(existing)),
            None => anyhow::bail!("order {} has a payment that cannot be read", p.order_id),
        },
    }
}

#[instrument(skip_all, fields(payment_id = id))]
pub async fn find(pool: &Pool, id: u64) -> Result<Option<Payment>, mysql_async::Error> {
    find_one(pool, "id", id).await
}

#[instrument(skip_all, fields(order_id = order_id))]
pub async fn find_by_order(
    pool: &Pool,
    order_id: u64,
) -> Result<Option<Payment>, mysql_async::Error> {
    find_one(pool, "order_id", order_id).await
}

/// The payment whose unique `column` (`id` or `order_id`, never caller input) is `value`.
async fn find_one(
    pool: &Pool,
    column: &'static str,
    value: u64,
) -> Result<Option<Payment>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let row: Option<Row> = conn
        .exec_first(
            format!("SELECT {COLUMNS} FROM payments WHERE {column} = ?"),
            (value,),
        )
        .await?;
    row.map(from_row).transpose()
}

/// Marks a new charge attempt on a `pending` payment (so it cannot be settled as never
/// charged while the attempt runs); false when it is no longer pending.
#[instrument(skip_all, fields(payment_id = id))]
pub async fn claim_attempt(
    pool: &Pool,
    id: u64,
    now: NaiveDateTime,
) -> Result<bool, mysql_async::Error> {
    mall_store::db::changed_one(
        pool,
        "UPDATE payments SET updated_at = ? WHERE id = ? AND status = ?",
        (now, id, Status::Pending.as_str()),
    )
    .await
}

/// `pending` → `status` with the gateway's charge id: the payment as settled (answered as
/// written: `now` in the stored form, as [`insert_pending`]), or `None` when it was not
/// pending any more (settled by someone else; read what they wrote). Batched with
/// concurrent charges' settlements (storage/batched.rs).
#[instrument(skip_all, fields(payment_id = p.id, status = status.as_str()))]
pub async fn settle(
    batches: &Batches,
    p: &Payment,
    status: Status,
    charge_id: &str,
    now: NaiveDateTime,
) -> anyhow::Result<Option<Payment>> {
    let from = prior(status, Status::Pending)?;
    let moved = SettleMove {
        id: p.id,
        from,
        to: status,
        charge_id: charge_id.to_owned(),
        at: now,
    };
    if !batches.settle(moved).await? {
        return Ok(None);
    }
    // This update moved the row from `pending`; it wrote these three columns, and no
    // statement ever changes the others (id, order, user, amount, currency, created_at),
    // so `p`'s values of those are the row's.
    Ok(Some(Payment {
        status,
        gateway_charge_id: Some(charge_id.to_owned()),
        updated_at: now,
        ..p.clone()
    }))
}

/// `pending` → `declined` without a charge, only if nothing touched the payment since
/// `seen_updated_at` (no charge attempt started meanwhile).
#[instrument(skip_all, fields(payment_id = id))]
pub async fn decline_untouched(
    pool: &Pool,
    id: u64,
    seen_updated_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, mysql_async::Error> {
    let from = prior(Status::Declined, Status::Pending)?;
    mall_store::db::changed_one(
        pool,
        "UPDATE payments SET status = ?, updated_at = ?
         WHERE id = ? AND status = ? AND updated_at = ?",
        (
            Status::Declined.as_str(),
            now,
            id,
            from.as_str(),
            seen_updated_at,
        ),
    )
    .await
}

/// `approved` → `refunded`; false when it was not approved (refunded already).
#[instrument(skip_all, fields(payment_id = id))]
pub async fn mark_refunded(
    pool: &Pool,
    id: u64,
    now: NaiveDateTime,
) -> Result<bool, mysql_async::Error> {
    let from = prior(Status::Refunded, Status::Approved)?;
    mall_store::db::changed_one(
        pool,
        "UPDATE payments SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
        (Status::Refunded.as_str(), now, id, from.as_str()),
    )
    .await
}

/// The status a move to `to` starts from, as `PaymentStatus::comes_from` says, checked to be
/// the one this caller's statement was written for (`expected`): a move the enum does not
/// allow is an error before any SQL runs.
fn prior(to: Status, expected: Status) -> Result<Status, mysql_async::Error> {
    match to.comes_from() {
        Some(from) if from == expected => Ok(from),
        _ => Err(mysql_async::Error::Other(
            format!(
                "a payment never moves to {} from {}",
                to.as_str(),
                expected.as_str()
            )
            .into(),
        )),
    }
}
