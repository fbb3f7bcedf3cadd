//! `/api/orders`: checkout (idempotent), history, detail, cancel.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{
    identity, json_body, json_reply, with_state, Identity, PageOf, PageQuery, Paging, PathId,
};
use warp::reply::Response;
use warp::Filter;

use crate::domain::{
    check_items, check_lines, total_too_large, IdempotencyKey, ItemQty, OrderBody,
};
use crate::error::OrderError;
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

async fn current(state: &State, order_id: u64) -> Result<Order, OrderError> {
    storage::find(&state.pool, order_id, None)
        .await?
        .ok_or_else(|| OrderError::not_found("no such order"))
}

/// How long a retry waits for the outcome of an order still being worked on before it
/// answers `202` pending: longer than a checkout takes when the card gateway answers at its
/// slowest (payment's 3 s gateway timeout), short enough that a retry is never held for the
/// reconciliation of an unknown outcome (docs/openapi.yaml: `202` pending, poll the order).
const REPLAY_WAIT: Duration = Duration::from_secs(5);

/// A retry (same key) of an order that exists: another body is refused; the same body
/// answers the order, waiting a little for the outcome of one still being worked on.
async fn replay(
    state: &State,
    existing: storage::Keyed,
    hash: &str,
) -> Result<Response, OrderError> {
    if existing.request_hash != hash {
        return Err(OrderError::IdempotencyKeyReused);
    }
    let mut order = current(state, existing.id).await?;
    let step = Duration::from_millis(100);
    for _ in 0..REPLAY_WAIT.as_millis() / step.as_millis() {
        if order.status != Status::Pending {
            break;
        }
        tokio::time::sleep(step).await;
        order = current(state, existing.id).await?;
    }
    answer(&order)
}

async fn create(
    state: Arc<State>,
    id: Identity,
    key: Option<String>,
    body: OrderBody,
) -> Result<Response, OrderError> {
    let key = IdempotencyKey::parse(key.as_deref()).ok_or(OrderError::InvalidIdempotencyKey)?;
    let hash = body.request_hash();
    let from_cart = body.items.is_none();
    // Insert first: a retry is told apart by the duplicate key at the insert, so a new
    // order costs no lookup. A request that cannot become an order (empty cart, bad items, a
    // service down) first looks for an order under its key: an existing one decides the
    // answer, as if the key had been looked up first (a retry of a cart checkout whose cart
    // that order emptied replays the order, not `cart_empty`).
    let (items, currency) = match order_items(&state, id.user_id, &body).await {
        Ok(found) => found,
        Err(e) => {
            return match storage::find_by_key(&state.pool, id.user_id, key.as_str()).await? {
                Some(existing) => replay(&state, existing, &hash).await,
                None => Err(e),
            };
        }
    };
    let Some(order_id) = storage::insert(
        &state.pool,
        id.user_id,
        key.as_str(),
        &hash,
        &currency,
        from_cart,
    )
    .await?
    else {
        // A retry, or a concurrent request with the same key that created it first.
        let existing = storage::find_by_key(&state.pool, id.user_id, key.as_str())
            .await?
            .ok_or_else(|| anyhow::anyhow!("order vanished after a duplicate key"))?;
        return replay(&state, existing, &hash).await;
    };
    tracing::info!(order_id, items = items.len(), from_cart, "order created");
    let origin = saga::Origin {
        user_id: id.user_id,
        from_cart,
    };
    saga::run(&state, order_id, origin, &items, &body.payment.card_token).await?;
    answer(&current(&state, order_id).await?)
}

/// The lines to order, checked, and their one currency: the body's `items`, which must
/// name live products, or the cart's lines. The cart service prices the cart through the
/// catalog's batch lookup and leaves out the lines of products gone from it (cart's
/// `routes::priced`), so its lines name live products already and are not looked up a
/// second time. Items in more than one currency are refused before anything is reserved
/// (a currency changed meanwhile is caught again after the reservation: saga.rs).
async fn order_items(
    state: &State,
    user_id: u64,
    body: &OrderBody,
) -> Result<(Vec<ItemQty>, String), OrderError> {
    let Some(sent) = &body.items else {
        let cart = state
            .clients
            .cart
            .cart(user_id)
            .await
            .map_err(OrderError::Unavailable)?;
        let items: Vec<ItemQty> = cart
            .items
            .iter()
            .map(|l| ItemQty {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect();
        if items.is_empty() {
            return Err(OrderError::CartEmpty);
        }
        check_lines(&items).map_err(OrderError::validation)?;
        let currency = one_currency(cart.items.iter().map(|l| l.currency.as_str()))?;
        return Ok((items, currency));
    };
    let items = check_items(sent).map_err(OrderError::validation)?;
    let ids: Vec<u64> = items.iter().map(|i| i.product_id).collect();
    let live = state
        .clients
        .product
        .products(&ids)
        .await
        .map_err(OrderError::Unavailable)?;
    if let Some(missing) = ids.iter().find(|pid| !live.iter().any(|p| p.id == **pid)) {
        return Err(OrderError::not_found(format!("no such product: {missing}")));
    }
    let currency = one_currency(live.iter().map(|p| p.currency.as_str()))?;
    Ok((items, currency))
}

/// The one currency of `currencies`, or the refusal naming them all.
fn one_currency<'a>(currencies: impl Iterator<Item = &'a str>) -> Result<String, OrderError> {
    let mut all: Vec<&str> = currencies.collect();
    all.sort_unstable();
    all.dedup();
    match all.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Ok("KRW".to_owned()),
        several => Err(OrderError::CurrencyMismatch(several.join(" and "))),
    }
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
