//! `/v1/control` and `/v1/stats`: test knobs. They are never failed or slowed by the mode
//! they set, so a test can always switch back.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{json_body, json_reply, with_state};
use serde_json::json;
use warp::reply::Response;
use warp::Filter;

use crate::domain::{ControlBody, Mode};
use crate::error::SimError;
use crate::State;

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let control = warp::path!("v1" / "control")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|s, b| async move { respond(control(s, b)) });
    let stats = warp::path!("v1" / "stats")
        .and(warp::get())
        .and(with_state(state))
        .map(|s: Arc<State>| json_reply(StatusCode::OK, &s.ledger.stats()));
    control.or(stats).unify()
}

fn control(state: Arc<State>, body: ControlBody) -> Result<Response, SimError> {
    let mode = Mode::parse(&body).map_err(SimError::validation)?;
    state.set_mode(mode);
    let delay_ms = u64::try_from(mode.delay().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(mode = ?mode.name(), delay_ms, "mode switched");
    Ok(json_reply(
        StatusCode::OK,
        &json!({ "mode": mode.name(), "delay_ms": delay_ms }),
    ))
}
