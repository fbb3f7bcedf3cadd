//! `/api/cart`: view, set a line, remove a line, empty.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{identity, json_body, Identity, PathId};
use warp::reply::Response;
use warp::{Filter, Reply};

use mall_http::filters::with_state;

use super::priced;
use crate::domain::{Quantity, QuantityBody};
use crate::error::CartError;
use crate::pricing::price;
use crate::storage::Line;
use crate::State;

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let view = warp::path!("api" / "cart")
        .and(warp::get())
        .and(identity())
        .and(with_state(state.clone()))
        .and_then(|id, s| async move { respond(view(s, id).await) });
    let set = warp::path!("api" / "cart" / "items" / PathId)
        .and(warp::put())
        .and(identity())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|PathId(pid), id, s, b| async move { respond(set(s, id, pid, b).await) });
    let remove = warp::path!("api" / "cart" / "items" / PathId)
        .and(warp::delete())
        .and(identity())
        .and(with_state(state.clone()))
        .and_then(|PathId(pid), id, s| async move { respond(remove(s, id, pid).await) });
    let clear = warp::path!("api" / "cart")
        .and(warp::delete())
        .and(identity())
        .and(with_state(state))
        .and_then(|id, s| async move { respond(clear(s, id).await) });
    view.or(set).unify().or(remove).unify().or(clear).unify()
}

async fn current(state: &State, user_id: u64) -> Result<Response, CartError> {
    let lines = state.carts.lines(user_id).await?;
    let cart = priced(&state.catalog, &lines).await?;
    Ok(warp::reply::json(&cart).into_response())
}

async fn view(state: Arc<State>, id: Identity) -> Result<Response, CartError> {
    current(&state, id.user_id).await
}

/// One catalog lookup, before the write: the product being set (404 when it is not a live
/// product) together with the lines already in the cart, so the answer is priced from the
/// same lookup. Only lines that appeared meanwhile (a concurrent change by the same
/// shopper) need a second one. The size limit, the cart's one currency and its total are
/// checked against the lines just read: a concurrent add by the same shopper can pass them
/// at the same moment, as with any check-then-write (what is read later is priced per
/// currency, with checked totals, whatever got in).
async fn set(
    state: Arc<State>,
    id: Identity,
    product_id: u64,
    body: QuantityBody,
) -> Result<Response, CartError> {
    let q = Quantity::parse(body.quantity).map_err(CartError::validation)?;
    let mut lines = state.carts.lines(id.user_id).await?;
    let mut asked: Vec<u64> = lines.iter().map(|l| l.product_id).collect();
    let new_line = !asked.contains(&product_id);
    let full = asked.len() >= state.max_lines as usize;
    if new_line {
        asked.push(product_id);
    }
    let mut known = state
        .catalog
        .prices(&asked)
        .await
        .map_err(CartError::CatalogUnavailable)?;
    let Some(product) = known.get(&product_id) else {
        return Err(CartError::not_found("no such product"));
    };
    if new_line && full {
        return Err(CartError::validation(format!(
            "a cart holds at most {} different products",
            state.max_lines
        )));
    }
    if new_line {
        let other = lines
            .iter()
            .filter_map(|l| known.get(&l.product_id))
            .find(|p| p.currency != product.currency);
        if let Some(other) = other {
            return Err(CartError::CurrencyMismatch {
                cart: other.currency.clone(),
                product: product.name.clone(),
                currency: product.currency.clone(),
            });
        }
    }
    match lines.iter_mut().find(|l| l.product_id == product_id) {
        Some(l) => l.quantity = q.get(),
        None => lines.push(Line {
            product_id,
            quantity: q.get(),
        }),
    }
    price(&lines, &known).map_err(CartError::validation)?;
    state.carts.set(id.user_id, product_id, q).await?;
    tracing::info!(product_id, quantity = q.get(), "cart line set");
    let lines = state.carts.lines(id.user_id).await?;
    let unasked: Vec<u64> = lines
        .iter()
        .map(|l| l.product_id)
        .filter(|pid| !asked.contains(pid))
        .collect();
    if !unasked.is_empty() {
        known.extend(
            state
                .catalog
                .prices(&unasked)
                .await
                .map_err(CartError::CatalogUnavailable)?,
        );
    }
    let cart = price(&lines, &known).map_err(CartError::validation)?;
    Ok(warp::reply::json(&cart).into_response())
}

async fn remove(state: Arc<State>, id: Identity, product_id: u64) -> Result<Response, CartError> {
    state.carts.remove(id.user_id, product_id).await?;
    tracing::info!(product_id, "cart line removed");
    current(&state, id.user_id).await
}

async fn clear(state: Arc<State>, id: Identity) -> Result<Response, CartError> {
    state.carts.clear(id.user_id).await?;
    tracing::info!("cart emptied");
    Ok(StatusCode::NO_CONTENT.into_response())
}
