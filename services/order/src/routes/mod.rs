//! HTTP only: parse, call, map.

mod admin;
mod orders;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    orders::routes(state.clone())
        .or(admin::routes(state))
        .unify()
        .boxed()
}
