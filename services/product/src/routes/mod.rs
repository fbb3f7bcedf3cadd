//! HTTP only: parse, call, map. Public catalog routes, admin writes, and the internal stock
//! API the order service calls (nginx never exposes `/internal/`).

mod admin;
mod catalog;
mod internal;

use std::sync::Arc;

use http::StatusCode;
use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    catalog::routes(state.clone())
        .or(admin::routes(state.clone()))
        .unify()
        .or(internal::routes(state))
        .unify()
        .boxed()
}

fn with_state(
    state: Arc<State>,
) -> impl Filter<Extract = (Arc<State>,), Error = std::convert::Infallible> + Clone {
    warp::any().map(move || state.clone())
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}
