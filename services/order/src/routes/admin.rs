//! `/api/admin/orders` and `/api/admin/stats` (admin only; the policy says so and the role
//! is checked again here).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{
    json_reply, require_role, with_state, Identity, PageOf, PageQuery, Paging,
};
use serde::{Deserialize, Serialize};
use warp::reply::Response;
use warp::Filter;

use crate::error::OrderError;
use crate::state::Status;
use crate::storage;
use crate::State;

#[derive(Deserialize)]
struct AdminQuery {
    status: Option<String>,
    page: Option<u32>,
    size: Option<u32>,
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let orders = warp::path!("api" / "admin" / "orders")
        .and(warp::get())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and(warp::query::<AdminQuery>())
        .and_then(|_: Identity, s, q| async move { respond(orders(s, q).await) });
    let stats = warp::path!("api" / "admin" / "stats")
        .and(warp::get())
        .and(require_role("admin"))
        .and(with_state(state))
        .and_then(|_: Identity, s| async move { respond(stats(s).await) });
    orders.or(stats).unify()
}

async fn orders(state: Arc<State>, q: AdminQuery) -> Result<Response, OrderError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            OrderError::validation("status must be pending, paid, failed or cancelled")
        })?),
    };
    let paging = Paging::try_from_query(PageQuery {
        page: q.page,
        size: q.size,
    })?;
    let (items, total) =
        storage::page(&state.pool, None, status, paging.offset(), paging.size).await?;
    Ok(json_reply(
        StatusCode::OK,
        &PageOf::new(items, paging, total),
    ))
}

async fn stats(state: Arc<State>) -> Result<Response, OrderError> {
    let users = state
        .clients
        .user
        .stats()
        .await
        .map_err(OrderError::Unavailable)?
        .users;
    let products = state
        .clients
        .product
        .stats()
        .await
        .map_err(OrderError::Unavailable)?
        .products;
    let (by_status, revenue) = storage::stats(&state.pool).await?;
    let mut orders_by_status: BTreeMap<&str, u64> =
        Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for (status, n) in by_status {
        orders_by_status.insert(status.as_str(), n);
    }
    Ok(json_reply(
        StatusCode::OK,
        &Stats {
            users,
            products,
            orders_by_status,
            revenue,
        },
    ))
}

/// `GET /api/admin/stats`: `revenue` is per currency (`{"KRW": 123000}`), an amount in each
/// currency's minor unit, never a sum across currencies.
#[derive(Serialize)]
struct Stats<'a> {
    users: u64,
    products: u64,
    orders_by_status: BTreeMap<&'a str, u64>,
    revenue: BTreeMap<String, i128>,
}
