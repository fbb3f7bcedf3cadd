//! HTTP only: parse, call, map. The charge routes (what the payment service calls) and
//! the test controls.

mod charges;
mod control;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    charges::routes(state.clone())
        .or(control::routes(state))
        .unify()
        .boxed()
}
