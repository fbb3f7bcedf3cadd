//! HTTP only: parse, call, map. The internal routes the order service calls (nginx never
//! exposes `/internal/`) and the shopper's own payment.

mod internal;
mod public;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    internal::routes(state.clone())
        .or(public::routes(state))
        .unify()
        .boxed()
}
