//! `GET /.well-known/jwks.json`: the public signing keys.

use std::sync::Arc;

use warp::reply::Response;
use warp::{Filter, Reply};

use crate::State;

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!(".well-known" / "jwks.json")
        .and(warp::get())
        .map(move || {
            let body = state.keys.current().jwks.clone();
            let mut resp =
                warp::reply::with_header(body, "content-type", "application/json").into_response();
            resp.headers_mut().insert(
                "cache-control",
                http::HeaderValue::from_static("public, max-age=60"),
            );
            resp
        })
}
