//! An order's lines: a line with its checked total, and rewriting the lines of an order
//! whose reservation priced them otherwise than it was created with.

use mall_runtime::time::now_naive;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use serde::Serialize;
use tracing::instrument;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub product_id: u64,
    pub name: String,
    pub price: i64,
    pub quantity: u32,
    pub line_total: i64,
}

impl Item {
    /// A line with its total, or `None` when the total overflows (the caller refuses it:
    /// docs/limits.md).
    pub fn priced(product_id: u64, name: String, price: i64, quantity: u32) -> Option<Self> {
        let line_total = mall_http::limits::line_total(price, quantity)?;
        Some(Self {
            product_id,
            name,
            price,
            quantity,
            line_total,
        })
    }
}

/// A stored line with its total. Every stored line was checked before it was written
/// (saga/), so an overflow here means a row nothing should have written: an error, never
/// a wrapped or saturated number.
pub(super) fn item(
    product_id: u64,
    name: String,
    price: i64,
    quantity: u32,
) -> Result<Item, mysql_async::Error> {
    Item::priced(product_id, name, price, quantity).ok_or_else(|| {
        mysql_async::Error::Other(
            format!("the line total of product {product_id} overflows").into(),
        )
    })
}

/// Rewrites the order's lines, their total (computed and checked by the caller, from the
/// reservation's current catalog prices) and its currency: only when the reservation
/// priced the lines otherwise than the order was created with (a price or name changed
/// between the request's check and its reservation).
///
/// Two statements without a transaction (which would cost two more round trips). Both run
/// before the charge, and the charge is made only after both succeeded. If the process
/// dies between them (or the second fails), the order stays `pending` with no payment and
/// an `updated_at` from its creation: the reconciler finds it stale, the payment service
/// has no payment for it (404), so the reservation is released and the order failed
/// `not_charged` (reconcile::reconcile_order), as after a crash before either write; that
/// failed order just keeps new lines beside its first total. Nothing was charged for
/// either. ([`find`] never reads in one snapshot: a read of a pending order between the
/// two may see the same.)
#[instrument(skip_all, fields(order_id))]
pub async fn set_items(
    pool: &Pool,
    order_id: u64,
    items: &[Item],
    total: i64,
    currency: &str,
) -> Result<(), mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    if !items.is_empty() {
        // One statement for every line (a checkout's saga is MySQL-bound: docs/performance.md).
        let rows = vec!["(?, ?, ?, ?, ?)"; items.len()].join(", ");
        let mut params: Vec<mysql_async::Value> = Vec::with_capacity(items.len() * 5);
        for i in items {
            params.push(order_id.into());
            params.push(i.product_id.into());
            params.push(i.name.as_str().into());
            params.push(i.price.into());
            params.push(i.quantity.into());
        }
        conn.exec_drop(
            format!(
                "INSERT INTO order_items (order_id, product_id, name, price, quantity) VALUES {rows}
                 ON DUPLICATE KEY UPDATE name = VALUES(name), price = VALUES(price), quantity = VALUES(quantity)"
            ),
            params,
        )
        .await?;
    }
    conn.exec_drop(
        "UPDATE orders SET total = ?, currency = ?, updated_at = ? WHERE id = ?",
        (total, currency, now_naive(), order_id),
    )
    .await?;
    Ok(())
}
