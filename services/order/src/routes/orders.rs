//! `/api/orders`: checkout (idempotent), history, detail, cancel.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{
    identity, json_body, json_reply, with_state, Identity, PageOf, PageQuery, Paging, PathId,
};
use warp::reply::Response;
use warp::Filter;

use crate::domain::{total_too_large, IdempotencyKey, OrderBody};
use crate::error::OrderError;
use crate::saga::checkout::{checkout, current, Checkout};
use crate::state::{FailureReason, Status};
use crate::storage::{self, Order};
use crate::{saga, State};

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let create = warp::path!("api" / "orders")
        .and(warp::post())
        .and(identity())
        .and(warp::header::optional::<String>("idempotency-key"))
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(
            |id, key: Option<String>, s, b| async move { respond(create(s, id, key, b).await) },
        );
    let list = warp::path!("api" / "orders")
        .and(warp::get())
        .and(identity())
        .and(with_state(state.clone()))
        .and(warp::query::<PageQuery>())
        .and_then(|id, s, q| async move { respond(list(s, id, q).await) });
    let detail = warp::path!("api" / "orders" / PathId)
        .and(warp::get())
        .and(identity())
        .and(with_state(state.clone()))
        .and_then(|PathId(oid), id, s| async move { respond(detail(s, id, oid).await) });
    let cancel = warp::path!("api" / "orders" / PathId / "cancel")
        .and(warp::post())
        .and(identity())
        .and(with_state(state))
        .and_then(|PathId(oid), id, s| async move { respond(cancel(s, id, oid).await) });
    create
        .or(list)
        .unify()
        .or(detail)
        .unify()
        .or(cancel)
        .unify()
}

/// The answer for an order as it is now: 201 paid or cancelled, 202 pending, 402 / 409 /
/// 422 failed (by reason).
fn answer(order: &Order) -> Result<Response, OrderError> {
    match (order.status, order.failure_reason) {
        (Status::Paid | Status::Cancelled, _) => Ok(json_reply(StatusCode::CREATED, order)),
        (Status::Pending, _) => Ok(json_reply(StatusCode::ACCEPTED, order)),
        (Status::Failed, Some(FailureReason::OutOfStock)) => Err(OrderError::OutOfStock(
            order.items.first().map_or(0, |i| i.product_id),
        )),
        (Status::Failed, Some(FailureReason::MixedCurrency)) => Err(OrderError::CurrencyMismatch(
            "more than one currency".into(),
        )),
        (Status::Failed, Some(FailureReason::TotalTooLarge)) => {
            Err(OrderError::validation(total_too_large()))
        }
        // Declined, never charged (the reconciler), or failed before reasons were stored.
        (
            Status::Failed,
            Some(FailureReason::PaymentDeclined | FailureReason::NotCharged) | None,
        ) => Err(OrderError::PaymentDeclined),
    }
}

async fn create(
    state: Arc<State>,
    id: Identity,
    key: Option<String>,
    body: OrderBody,
) -> Result<Response, OrderError> {
    let key = IdempotencyKey::parse(key.as_deref()).ok_or(OrderError::InvalidIdempotencyKey)?;
    let request = Checkout {
        user_id: id.user_id,
        key: &key,
        body: &body,
    };
    answer(&checkout(&state, request).await?)
}

async fn list(state: Arc<State>, id: Identity, q: PageQuery) -> Result<Response, OrderError> {
    let paging = Paging::try_from_query(q)?;
    let (items, total) = storage::page(
        &state.pool,
        Some(id.user_id),
        None,
        paging.offset(),
        paging.size,
    )
    .await?;
    Ok(json_reply(
        StatusCode::OK,
        &PageOf::new(items, paging, total),
    ))
}

async fn detail(state: Arc<State>, id: Identity, order_id: u64) -> Result<Response, OrderError> {
    let order = storage::find(&state.pool, order_id, Some(id.user_id))
        .await?
        .ok_or_else(|| OrderError::not_found("no such order"))?;
    Ok(json_reply(StatusCode::OK, &order))
}

async fn cancel(state: Arc<State>, id: Identity, order_id: u64) -> Result<Response, OrderError> {
    let order = storage::find(&state.pool, order_id, Some(id.user_id))
        .await?
        .ok_or_else(|| OrderError::not_found("no such order"))?;
    saga::cancel(&state, &order).await?;
    Ok(json_reply(
        StatusCode::OK,
        &current(&state, order_id).await?,
    ))
}
