//! HTTP only: parse, call, map. Public catalog routes, admin writes, and the internal stock
//! API the order service calls (nginx never exposes `/internal/`).

mod admin;
mod catalog;
mod internal;
mod reserve_batch;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    catalog::routes(state.clone())
        .or(admin::routes(state.clone()))
        .unify()
        .or(internal::routes(state.clone()))
        .unify()
        .or(reserve_batch::route(state))
        .unify()
        .boxed()
}
