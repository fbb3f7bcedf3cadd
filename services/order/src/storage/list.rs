//! Reads over many orders: a page of orders with their items (a shopper's own, or an
//! admin's, by status), and the admin's figures (revenue per currency).

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use tracing::instrument;

use super::{item, order, status, Order, Row, COLUMNS};
use crate::state::Status;

async fn with_items<C: Queryable>(
    conn: &mut C,
    mut orders: Vec<Order>,
) -> Result<Vec<Order>, mysql_async::Error> {
    if orders.is_empty() {
        return Ok(orders);
    }
    let ids = orders
        .iter()
        .map(|o| o.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<(u64, u64, String, i64, u32)> = conn
        .query(format!(
            "SELECT order_id, product_id, name, price, quantity FROM order_items WHERE order_id IN ({ids}) ORDER BY product_id"
        ))
        .await?;
    for (order_id, product_id, name, price, quantity) in rows {
        if let Some(o) = orders.iter_mut().find(|o| o.id == order_id) {
            o.items.push(item(product_id, name, price, quantity)?);
        }
    }
    Ok(orders)
}

/// A page of orders, newest first; of one user, or filtered by status (admin).
#[instrument(skip_all)]
pub async fn page(
    pool: &Pool,
    user: Option<u64>,
    status: Option<Status>,
    offset: u64,
    limit: u32,
) -> Result<(Vec<Order>, u64), mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let mut filter = vec!["1 = 1"];
    let mut params: Vec<mysql_async::Value> = Vec::new();
    if let Some(u) = user {
        filter.push("user_id = ?");
        params.push(u.into());
    }
    if let Some(s) = status {
        filter.push("status = ?");
        params.push(s.as_str().into());
    }
    let filter = filter.join(" AND ");
    let total: Option<u64> = conn
        .exec_first(
            format!("SELECT COUNT(*) FROM orders WHERE {filter}"),
            params.clone(),
        )
        .await?;
    params.push(limit.into());
    params.push(offset.into());
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT {COLUMNS} FROM orders WHERE {filter} ORDER BY id DESC LIMIT ? OFFSET ?"
            ),
            params,
        )
        .await?;
    let mut orders: Vec<Order> = rows.into_iter().map(order).collect::<Result<_, _>>()?;
    if user.is_none() {
        for o in &mut orders {
            o.user_id = Some(o.owner);
        }
    }
    Ok((with_items(&mut conn, orders).await?, total.unwrap_or(0)))
}

/// `(status, count)` pairs and the revenue of paid orders, per currency (never summed
/// across currencies). Each sum is MySQL's exact DECIMAL, read as text: a revenue may
/// outgrow i64 even though no single order can.
pub async fn stats(
    pool: &Pool,
) -> Result<(Vec<(Status, u64)>, BTreeMap<String, i128>), mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let by_status: Vec<(String, u64)> = conn
        .query("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status")
        .await?;
    let by_status = by_status
        .into_iter()
        .map(|(s, n)| Ok((status(&s)?, n)))
        .collect::<Result<_, mysql_async::Error>>()?;
    let sums: Vec<(String, String)> = conn
        .exec(
            "SELECT currency, CAST(SUM(total) AS CHAR) FROM orders WHERE status = ?
             GROUP BY currency ORDER BY currency",
            (Status::Paid.as_str(),),
        )
        .await?;
    let revenue = sums
        .into_iter()
        .map(|(currency, sum)| {
            sum.parse::<i128>().map(|n| (currency, n)).map_err(|_| {
                mysql_async::Error::Other(format!("revenue {sum:?} is not an integer").into())
            })
        })
        .collect::<Result<_, _>>()?;
    Ok((by_status, revenue))
}
