//! The order tables: orders (unique on user + idempotency key), their items (a snapshot of
//! name and price at checkout) and their status history. Status changes are conditional on
//! the current status, so concurrent settlers (a request and the reconciler) never both win.
//! Public for the integration tests, which call it against a database of their own.

mod batched;
mod lines;
mod list;
mod status;

use chrono::NaiveDateTime;
use mall_runtime::time::{now_naive, rfc3339};
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use serde::Serialize;
use tracing::instrument;

use crate::state::{FailureReason, Status};

pub use batched::{Creates, Moves};
use lines::item;
pub use lines::{set_items, Item};
pub use list::{page, stats};
pub use status::{
    insert_at, insert_many, insert_one, transition, transition_at, transition_many, Create, Move,
    NewOrder,
};

pub const MIGRATIONS: &[mall_store::db::Migration] = &[
    mall_store::db::Migration {
        version: 1,
        name: "orders, items, status history",
        sql: include_str!("../../migrations/0001_orders.sql"),
    },
    mall_store::db::Migration {
        version: 2,
        name: "trace id of the creating request",
        sql: include_str!("../../migrations/0002_order_trace_id.sql"),
    },
    mall_store::db::Migration {
        version: 3,
        name: "procedures: create an order, change its status",
        sql: include_str!("../../migrations/0003_order_procedures.sql"),
    },
    mall_store::db::Migration {
        version: 4,
        name: "procedure: create an order with its lines",
        sql: include_str!("../../migrations/0004_order_create_with_items.sql"),
    },
    mall_store::db::Migration {
        version: 5,
        name: "procedure: several orders' moves in one transaction",
        sql: include_str!("../../migrations/0005_order_transition_many.sql"),
    },
    mall_store::db::Migration {
        version: 6,
        name: "procedure: order_transition_many_v2 (its answer in one value)",
        sql: include_str!("../../migrations/0006_order_transition_many_v2.sql"),
    },
    mall_store::db::Migration {
        version: 7,
        name: "procedure: several orders created in one transaction",
        sql: include_str!("../../migrations/0007_order_create_many.sql"),
    },
];

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub status: Status,
    pub at: String,
}

/// An order as the API shows it (`user_id` only for admins).
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
    pub status: Status,
    pub items: Vec<Item>,
    pub total: i64,
    pub currency: String,
    pub payment_id: Option<u64>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_history: Option<Vec<Change>>,
    #[serde(skip)]
    pub failure_reason: Option<FailureReason>,
    #[serde(skip)]
    pub owner: u64,
}

type Row = (
    u64,
    u64,
    String,
    Option<String>,
    i64,
    String,
    Option<u64>,
    NaiveDateTime,
);

const COLUMNS: &str =
    "id, user_id, status, failure_reason, total, currency, payment_id, created_at";

/// A stored status, which only [`crate::state`]'s names can be: anything else is a row
/// nothing should have written (an error, never a guess).
fn status(s: &str) -> Result<Status, mysql_async::Error> {
    Status::parse(s)
        .ok_or_else(|| mysql_async::Error::Other(format!("unknown order status {s:?}").into()))
}

fn order(r: Row) -> Result<Order, mysql_async::Error> {
    let reason = match r.3.as_deref() {
        None => None,
        Some(s) => Some(FailureReason::parse(s).ok_or_else(|| {
            mysql_async::Error::Other(format!("unknown failure reason {s:?}").into())
        })?),
    };
    Ok(Order {
        id: r.0,
        user_id: None,
        owner: r.1,
        status: status(&r.2)?,
        failure_reason: reason,
        total: r.4,
        currency: r.5,
        payment_id: r.6,
        created_at: rfc3339(r.7),
        items: Vec::new(),
        status_history: None,
    })
}

/// An order found by its idempotency key: what tells a retry from another request.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub id: u64,
    pub request_hash: String,
}

#[instrument(skip_all, fields(user_id))]
pub async fn find_by_key(
    pool: &Pool,
    user_id: u64,
    key: &str,
) -> Result<Option<Keyed>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let row: Option<(u64, String)> = conn
        .exec_first(
            "SELECT id, request_hash FROM orders WHERE user_id = ? AND idempotency_key = ?",
            (user_id, key),
        )
        .await?;
    Ok(row.map(|(id, request_hash)| Keyed { id, request_hash }))
}

/// One order with items and history; `owner` restricts it to that user.
///
/// The three reads go in one round trip, as one multi-statement text query (the id is a
/// number written into the SQL, as in [`with_items`]). Each SELECT still sees what was
/// committed when it ran, as three separate statements did.
#[instrument(skip_all, fields(order_id = id))]
pub async fn find(
    pool: &Pool,
    id: u64,
    owner: Option<u64>,
) -> Result<Option<Order>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let mut result = conn
        .query_iter(format!(
            "SELECT {COLUMNS} FROM orders WHERE id = {id};
             SELECT status, at FROM order_status_history WHERE order_id = {id} ORDER BY id;
             SELECT product_id, name, price, quantity FROM order_items WHERE order_id = {id} ORDER BY product_id"
        ))
        .await?;
    let row: Option<Row> = result.collect::<Row>().await?.pop();
    let history: Vec<(String, NaiveDateTime)> = result.collect().await?;
    let items: Vec<(u64, String, i64, u32)> = result.collect().await?;
    result.drop_result().await?;
    let Some(mut o) = row.map(order).transpose()? else {
        return Ok(None);
    };
    if owner.is_some_and(|u| u != o.owner) {
        return Ok(None);
    }
    o.status_history = Some(
        history
            .into_iter()
            .map(|(s, at)| {
                Ok(Change {
                    status: status(&s)?,
                    at: rfc3339(at),
                })
            })
            .collect::<Result<_, mysql_async::Error>>()?,
    );
    o.items = items
        .into_iter()
        .map(|(product_id, name, price, quantity)| item(product_id, name, price, quantity))
        .collect::<Result<_, _>>()?;
    Ok(Some(o))
}

/// Whose order it is and whether it was ordered from the cart (what the reconciler's
/// settlement needs to empty the cart), without the items and history [`find`] reads.
pub async fn owner_and_origin(
    pool: &Pool,
    order_id: u64,
) -> Result<Option<(u64, bool)>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    conn.exec_first(
        "SELECT user_id, from_cart FROM orders WHERE id = ?",
        (order_id,),
    )
    .await
}

/// Pending orders nobody has touched for `older_than_secs`: id and the trace id of the
/// request that created each.
pub async fn stale_pending(
    pool: &Pool,
    older_than_secs: u64,
) -> Result<Vec<(u64, Option<String>)>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let cutoff = now_naive()
        - chrono::Duration::seconds(i64::try_from(older_than_secs).unwrap_or(i64::MAX / 2_000));
    conn.exec(
        "SELECT id, trace_id FROM orders WHERE status = ? AND updated_at < ? ORDER BY id LIMIT 100",
        (Status::Pending.as_str(), cutoff),
    )
    .await
}
