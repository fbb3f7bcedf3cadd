//! `/v1/charges`: create (idempotent on the key), list by key or reference, refund.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{json_body, json_reply, with_state};
use mall_runtime::time::{now_naive, rfc3339};
use serde::Deserialize;
use tracing::instrument;
use warp::reply::Response;
use warp::Filter;

use crate::domain::{check_key, ChargeBody, Mode, NewCharge, RefundBody, TokenKind};
use crate::error::SimError;
use crate::State;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    idempotency_key: Option<String>,
    reference: Option<String>,
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let create = warp::path!("v1" / "charges")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|s, b| async move { respond(create(s, b).await) });
    let list = warp::path!("v1" / "charges")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(warp::query::<ListQuery>())
        .and_then(|s, q| async move { respond(list(s, q).await) });
    let refund = warp::path!("v1" / "charges" / u64 / "refunds")
        .and(warp::post())
        .and(with_state(state))
        .and(json_body())
        .and_then(|id, s, b| async move { respond(refund(s, id, b).await) });
    create.or(list).unify().or(refund).unify()
}

/// The mode for this request: `fail` refuses before anything happens.
fn mode_or_fail(state: &State) -> Result<Mode, SimError> {
    match state.mode() {
        Mode::Fail => {
            tracing::warn!("failing on purpose (control mode fail)");
            Err(SimError::Unavailable)
        }
        mode => Ok(mode),
    }
}

/// `slow` mode: the work is done, the answer waits.
async fn answer_late(mode: Mode) {
    let delay = mode.delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

#[instrument(skip_all, fields(idempotency_key = %body.idempotency_key))]
async fn create(state: Arc<State>, body: ChargeBody) -> Result<Response, SimError> {
    let mode = mode_or_fail(&state)?;
    let req = NewCharge::parse(body).map_err(SimError::validation)?;
    let kind = TokenKind::of(&req.card_token);
    let recorded = state
        .ledger
        .charge(req, rfc3339(now_naive()))
        .map_err(|e| {
            tracing::warn!("idempotency key reused with another amount, currency or card");
            SimError::from(e)
        })?;
    let c = &recorded.charge;
    tracing::info!(
        charge_id = c.id,
        status = c.status.as_str(),
        amount = c.amount,
        currency = %c.currency,
        reference = %c.reference,
        replayed = recorded.replayed,
        "charge"
    );
    // Recorded first, answered late: the caller times out, the charge exists, and only
    // reconciliation (a lookup by key) learns the outcome.
    if kind == TokenKind::ApproveLate {
        tracing::info!(
            delay_secs = state.timeout_delay.as_secs_f64(),
            "holding the answer (late-answer card)"
        );
        tokio::time::sleep(state.timeout_delay).await;
    }
    answer_late(mode).await;
    Ok(json_reply(StatusCode::OK, &recorded.charge))
}

async fn list(state: Arc<State>, q: ListQuery) -> Result<Response, SimError> {
    let mode = mode_or_fail(&state)?;
    if q.idempotency_key.is_none() && q.reference.is_none() {
        return Err(SimError::validation(
            "give idempotency_key or reference (or both)",
        ));
    }
    let found = state
        .ledger
        .find(q.idempotency_key.as_deref(), q.reference.as_deref());
    tracing::info!(found = found.len(), "charges looked up");
    answer_late(mode).await;
    Ok(json_reply(StatusCode::OK, &found))
}

#[instrument(skip_all, fields(charge_id = id, idempotency_key = %body.idempotency_key))]
async fn refund(state: Arc<State>, id: u64, body: RefundBody) -> Result<Response, SimError> {
    let mode = mode_or_fail(&state)?;
    check_key(&body.idempotency_key).map_err(SimError::validation)?;
    let charge = state.ledger.refund(id, &body.idempotency_key)?;
    tracing::info!(status = charge.status.as_str(), "refund");
    answer_late(mode).await;
    Ok(json_reply(StatusCode::OK, &charge))
}
