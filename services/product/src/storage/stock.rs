//! An admin's stock change: one conditional update, and on a refusal which limit it met.

use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use tracing::instrument;

use super::now_naive;

/// What a stock change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    Done,
    /// Refused: the stock (as it is now) plus the delta would be below 0.
    BelowZero {
        stock: i64,
    },
    /// Refused: the stock plus the delta would exceed `MAX_STOCK`.
    AboveMax {
        stock: i64,
    },
    NoSuchProduct,
}

/// Adds `delta` (within ±MAX_STOCK, checked by the caller) to the stock unless that would
/// leave 0..=MAX_STOCK; a refusal says which side and the stock it met.
#[instrument(skip_all, fields(product_id = id))]
pub async fn adjust_stock(
    pool: &Pool,
    id: u64,
    delta: i64,
) -> Result<StockChange, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    conn.exec_drop(
        "UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL AND stock + ? >= 0 AND stock + ? <= ?",
        (delta, now_naive(), id, delta, delta, crate::domain::MAX_STOCK),
    )
    .await?;
    if conn.affected_rows() == 1 {
        return Ok(StockChange::Done);
    }
    let stock: Option<i64> = conn
        .exec_first(
            "SELECT stock FROM products WHERE id = ? AND deleted_at IS NULL",
            (id,),
        )
        .await?;
    Ok(match stock {
        None => StockChange::NoSuchProduct,
        // Both bounds are within i64 by far (stock ≤ 1e9, |delta| ≤ 1e9).
        Some(stock) if stock.saturating_add(delta) < 0 => StockChange::BelowZero { stock },
        Some(stock) => StockChange::AboveMax { stock },
    })
}
