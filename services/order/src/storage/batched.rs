//! The moves of concurrent checkouts reaching the same step (`pending` → `paid`), batched:
//! whatever moves queue while one batch is in MySQL go together in the next, one round
//! trip and one commit ([`transition_many`], `mall_runtime::batch`). Each caller still
//! waits for its own move's outcome, so the order's steps keep their order.

use mall_store::batched::{in_key_order, DbBatcher, SharedError};
use mysql_async::Pool;

use super::status::{transition_many, Move};

/// The most moves in one batch (one procedure call).
const MAX_MOVES: usize = 64;

/// A failed move's error is its batch's (all of it rolled back), or says the batch worker
/// is gone.
pub struct Moves(DbBatcher<Move, bool>);

impl Moves {
    /// Starts the batch worker on `pool` (needs a tokio runtime).
    pub fn start(pool: Pool) -> Self {
        Self(DbBatcher::start(MAX_MOVES, move |moves| {
            run(pool.clone(), moves)
        }))
    }

    /// Applies `m`; true when it changed the order (it was in the move's `from` status).
    pub async fn apply(&self, m: Move) -> Result<bool, SharedError> {
        self.0.submit(m).await
    }
}

/// One batch: sorted by order id for the call (the order rows are locked in), answered in
/// the order the moves came.
async fn run(pool: Pool, moves: Vec<Move>) -> Result<Vec<bool>, mysql_async::Error> {
    in_key_order(
        moves,
        |m| m.order_id,
        |sorted| async move { transition_many(&pool, &sorted).await },
    )
    .await
}
