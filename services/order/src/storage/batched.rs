//! The moves of concurrent checkouts reaching the same step (`pending` → `paid`), batched:
//! whatever moves queue while the step's batches are in MySQL (two at most) go together in
//! the next, sorted by order id, one round trip and one commit ([`transition_many`], `mall_runtime::batch`). Each caller still
//! waits for its own move's outcome, so the order's steps keep their order.

use mall_store::batched::{DbBatcher, SharedError};
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
        Self(DbBatcher::start(
            MAX_MOVES,
            |m: &Move| m.order_id,
            move |moves: Vec<Move>| {
                let pool = pool.clone();
                async move { transition_many(&pool, &moves).await }
            },
        ))
    }

    /// Applies `m`; true when it changed the order (it was in the move's `from` status).
    pub async fn apply(&self, m: Move) -> Result<bool, SharedError> {
        self.0.submit(m).await
    }
}
