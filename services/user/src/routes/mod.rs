//! HTTP only: parse, call, map. Each module exposes one `routes()` filter; they are
//! combined here.

mod admin;
mod jwks;
mod users;

use std::sync::Arc;

use http::StatusCode;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    users::routes(state.clone())
        .or(admin::routes(state.clone()))
        .unify()
        .or(jwks::routes(state))
        .unify()
        .boxed()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
