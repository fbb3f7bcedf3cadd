//! The writes of concurrent checkouts reaching the same step, batched: the order's creation
//! and its `pending` → `paid` move. Whatever queues while the step's batches are in MySQL
//! (two at most) goes together in the next, sorted by the key of the rows it locks, one
//! round trip and one commit (`mall_runtime::batch`). Each caller still waits for its own
//! outcome, so the order's steps keep their order. A batch of one is the single
//! procedure (`order_create_v2`, `order_transition`: `one_or_many`).

use mall_store::batched::{one_or_many, DbBatcher, SharedError};
use mysql_async::Pool;

use super::status::{insert_many, insert_one, transition_at, transition_many, Create, Move};

/// The most moves, or orders created, in one batch (one procedure call).
const MAX_MOVES: usize = 64;

/// New orders, created together: a batch's orders commit together or not at all.
pub struct Creates(DbBatcher<Create, Option<u64>>);

impl Creates {
    /// Starts the batch worker on `pool` (needs a tokio runtime).
    pub fn start(pool: Pool) -> Self {
        Self(DbBatcher::start(
            MAX_MOVES,
            |c: &Create| (c.user_id, c.key.clone()),
            move |orders: Vec<Create>| {
                let pool = pool.clone();
                async move {
                    let one = |o| insert_one(&pool, o);
                    one_or_many(&orders, one, |all| insert_many(&pool, all)).await
                }
            },
        ))
    }

    /// Creates the order `c` (pending, with its lines); its id, or `None` when its (user,
    /// key) names an order already.
    pub async fn create(&self, c: Create) -> Result<Option<u64>, SharedError> {
        self.0.submit(c).await
    }
}

/// A failed move's error is its batch's (all of it rolled back), or says the batch worker
/// is gone.
pub struct Moves(DbBatcher<Move, bool>);

impl Moves {
    /// Starts the batch worker on `pool` (needs a tokio runtime).
    pub fn start(pool: Pool) -> Self {
        Self(DbBatcher::start(
            MAX_MOVES,
            |m: &Move| m.order_id,
            move |moves: Vec<Move>| {
                let pool = pool.clone();
                async move {
                    let one = |m: &Move| transition_at(&pool, m.order_id, m.change, m.at);
                    one_or_many(&moves, one, |all| transition_many(&pool, all)).await
                }
            },
        ))
    }

    /// Applies `m`; true when it changed the order (it was in the move's `from` status).
    pub async fn apply(&self, m: Move) -> Result<bool, SharedError> {
        self.0.submit(m).await
    }
}
