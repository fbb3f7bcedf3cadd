//! `/internal/carts/{user_id}`: the order service reads a cart (with current prices) and
//! empties it after a successful payment.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use warp::reply::Response;
use warp::{Filter, Reply};

use mall_http::filters::with_state;

use super::priced;
use crate::error::CartError;
use crate::State;

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let get = warp::path!("internal" / "carts" / u64)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|uid, s| async move { respond(get(s, uid).await) });
    let clear = warp::path!("internal" / "carts" / u64)
        .and(warp::delete())
        .and(with_state(state))
        .and_then(|uid, s| async move { respond(clear(s, uid).await) });
    get.or(clear).unify()
}

async fn get(state: Arc<State>, user_id: u64) -> Result<Response, CartError> {
    let lines = state.carts.lines(user_id).await?;
    Ok(warp::reply::json(&priced(&state.catalog, &lines).await?).into_response())
}

async fn clear(state: Arc<State>, user_id: u64) -> Result<Response, CartError> {
    state.carts.clear(user_id).await?;
    tracing::info!(user_id, "cart emptied after checkout");
    Ok(StatusCode::NO_CONTENT.into_response())
}
