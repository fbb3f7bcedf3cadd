//! Admin catalog writes: create, replace, stock, soft delete. Every write invalidates the
//! cache before answering.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{json_body, require_role, Identity, PathId};
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::domain::{ProductBody, ProductInput, ReplaceBody, StockDelta};
use crate::error::ProductError;
use crate::storage::products;
use crate::storage::stock::{self, StockChange};
use crate::State;
use mall_http::filters::{json_reply as json, with_state};

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let create = warp::path!("api" / "products")
        .and(warp::post())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|a, s, b| async move { respond(create(s, a, b).await) });
    let replace = warp::path!("api" / "products" / PathId)
        .and(warp::put())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|PathId(id), a, s, b| async move { respond(replace(s, a, id, b).await) });
    let stock = warp::path!("api" / "products" / PathId / "stock")
        .and(warp::patch())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|PathId(id), a, s, b| async move { respond(stock(s, a, id, b).await) });
    let delete = warp::path!("api" / "products" / PathId)
        .and(warp::delete())
        .and(require_role("admin"))
        .and(with_state(state))
        .and_then(|PathId(id), a, s| async move { respond(delete(s, a, id).await) });
    create
        .or(replace)
        .unify()
        .or(stock)
        .unify()
        .or(delete)
        .unify()
}

async fn create(
    state: Arc<State>,
    admin: Identity,
    body: ProductBody,
) -> Result<Response, ProductError> {
    let input = ProductInput::parse(body, true).map_err(ProductError::validation)?;
    let product = products::insert(&state.pool, &input).await?;
    state.cache.invalidate().await;
    tracing::info!(
        admin_id = admin.user_id,
        product_id = product.id,
        "product created"
    );
    Ok(json(StatusCode::CREATED, &product))
}

async fn replace(
    state: Arc<State>,
    admin: Identity,
    id: u64,
    body: ReplaceBody,
) -> Result<Response, ProductError> {
    let input = ProductInput::parse(body.into(), false).map_err(ProductError::validation)?;
    let product = products::update(&state.pool, id, &input)
        .await?
        .ok_or_else(|| ProductError::not_found("no such product"))?;
    state.cache.invalidate().await;
    tracing::info!(admin_id = admin.user_id, product_id = id, "product updated");
    Ok(json(StatusCode::OK, &product))
}

async fn stock(
    state: Arc<State>,
    admin: Identity,
    id: u64,
    body: StockDelta,
) -> Result<Response, ProductError> {
    let delta = body.parse().map_err(ProductError::validation)?;
    match stock::adjust_stock(&state.pool, id, delta).await? {
        StockChange::Done => {}
        StockChange::NoSuchProduct => return Err(ProductError::not_found("no such product")),
        StockChange::BelowZero { stock } => {
            return Err(ProductError::InsufficientStock { stock, delta })
        }
        StockChange::AboveMax { stock } => {
            return Err(ProductError::StockLimitExceeded { stock, delta })
        }
    }
    state.cache.invalidate().await;
    tracing::info!(
        admin_id = admin.user_id,
        product_id = id,
        delta,
        "stock adjusted"
    );
    let product = products::find(&state.pool, id)
        .await?
        .ok_or_else(|| ProductError::not_found("no such product"))?;
    Ok(json(StatusCode::OK, &product))
}

async fn delete(state: Arc<State>, admin: Identity, id: u64) -> Result<Response, ProductError> {
    if !products::soft_delete(&state.pool, id).await? {
        return Err(ProductError::not_found("no such product"));
    }
    state.cache.invalidate().await;
    tracing::info!(admin_id = admin.user_id, product_id = id, "product deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
