//! The two writes of every charge, batched across concurrent charges (`mall_runtime::batch`,
//! docs/checkout.md "The steps"): the new `pending` payment and its settlement. Whatever
//! queues while one batch is in MySQL goes in the next, one round trip and one commit for
//! all (the procedures of migrations/0002). Each caller waits for its own outcome, so a
//! payment is still written before the gateway is called, and settled before the answer.

use chrono::NaiveDateTime;
use mall_runtime::batch::Batcher;
use mall_runtime::time::sql_datetime;
use mall_store::batched::SharedError;
use mysql_async::Pool;

use crate::domain::Status;

/// The most payments in one batch (one procedure call).
const MAX_BATCH: usize = 64;

/// A new payment's row.
#[derive(Clone, Debug)]
pub struct NewRow {
    pub order_id: u64,
    pub user_id: u64,
    pub amount: i64,
    pub currency: String,
    pub now: NaiveDateTime,
}

/// A settlement: `from` → `to` with the gateway's charge id, at `at`.
#[derive(Clone, Debug)]
pub struct SettleMove {
    pub id: u64,
    pub from: Status,
    pub to: Status,
    pub charge_id: String,
    pub at: NaiveDateTime,
}

type Outcome<T> = Result<T, SharedError>;

pub struct Batches {
    creates: Batcher<NewRow, Outcome<Option<u64>>>,
    settles: Batcher<SettleMove, Outcome<bool>>,
}

impl Batches {
    /// Starts both batch workers on `pool` (needs a tokio runtime).
    pub fn start(pool: &Pool) -> Self {
        let (a, b) = (pool.clone(), pool.clone());
        Self {
            creates: Batcher::start(MAX_BATCH, move |rows| shared(create_many(a.clone(), rows))),
            settles: Batcher::start(MAX_BATCH, move |moves| {
                shared(settle_many(b.clone(), moves))
            }),
        }
    }

    /// The new payment's id, or `None` when the order has a payment already.
    pub async fn create(&self, row: NewRow) -> Outcome<Option<u64>> {
        flatten(self.creates.submit(row).await)
    }

    /// True when the move changed the payment (it was in `from`).
    pub async fn settle(&self, m: SettleMove) -> Outcome<bool> {
        flatten(self.settles.submit(m).await)
    }
}

fn flatten<T>(o: Result<Outcome<T>, mall_runtime::batch::WorkerGone>) -> Outcome<T> {
    o.unwrap_or_else(|gone| Err(SharedError::other(gone.to_string())))
}

/// A batch's outcomes, or its one error for each of its items.
async fn shared<T: Clone>(
    batch: impl std::future::Future<Output = (usize, Result<Vec<T>, mysql_async::Error>)>,
) -> Vec<Outcome<T>> {
    match batch.await {
        (_, Ok(each)) => each.into_iter().map(Ok).collect(),
        (n, Err(e)) => vec![Err(SharedError::of(&e)); n],
    }
}

async fn create_many(
    pool: Pool,
    rows: Vec<NewRow>,
) -> (usize, Result<Vec<Option<u64>>, mysql_async::Error>) {
    let n = rows.len();
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "order_id": r.order_id, "user_id": r.user_id,
                "amount": r.amount, "currency": r.currency, "at": sql_datetime(r.now),
            })
        })
        .collect();
    let called = mall_store::batched::call(
        &pool,
        "CALL payment_create_many_v1(?, ?)",
        vec![
            serde_json::Value::Array(json).to_string().into(),
            Status::Pending.as_str().into(),
        ],
        rows.iter().map(|r| r.order_id),
        |r: &(u64, Option<u64>)| r.0,
    )
    .await
    .map(|rows_back| rows_back.into_iter().map(|(_, id)| id).collect());
    (n, called)
}

async fn settle_many(
    pool: Pool,
    moves: Vec<SettleMove>,
) -> (usize, Result<Vec<bool>, mysql_async::Error>) {
    let n = moves.len();
    let json: Vec<serde_json::Value> = moves
        .iter()
        .map(|m| {
            serde_json::json!({
                "id": m.id, "from": m.from.as_str(), "to": m.to.as_str(),
                "charge_id": m.charge_id, "at": sql_datetime(m.at),
            })
        })
        .collect();
    let called = mall_store::batched::call(
        &pool,
        "CALL payment_settle_many_v1(?)",
        vec![serde_json::Value::Array(json).to_string().into()],
        moves.iter().map(|m| m.id),
        |r: &(u64, i64)| r.0,
    )
    .await
    .map(|rows| rows.into_iter().map(|(_, changed)| changed == 1).collect());
    (n, called)
}
