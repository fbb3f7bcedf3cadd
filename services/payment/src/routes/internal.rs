//! `/internal/payments`: charge (idempotent on the order), the order's payment after
//! reconciling, refund.

use std::sync::Arc;

use http::StatusCode;
use mall_contracts::payment::Payment as PaymentView;
use mall_http::error::respond;
use mall_http::filters::{json_body, json_reply, with_state};
use mall_runtime::time::rfc3339;
use warp::reply::Response;
use warp::Filter;

use crate::domain::{ChargeBody, NewPayment};
use crate::error::PaymentError;
use crate::payments;
use crate::storage::Payment;
use crate::State;

/// The internal view of a payment (docs/checkout.md).
/// The contract's answer (`mall_contracts::payment::Payment`) from a stored payment.
fn view(p: Payment) -> PaymentView {
    PaymentView {
        id: p.id,
        order_id: p.order_id,
        user_id: p.user_id,
        amount: p.amount,
        currency: p.currency,
        status: p.status,
        created_at: rfc3339(p.created_at),
    }
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let charge = warp::path!("internal" / "payments")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|s, b| async move { respond(charge(s, b).await) });
    let by_order = warp::path!("internal" / "payments" / "by-order" / u64)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|order_id, s: Arc<State>| async move {
            respond(reply(payments::by_order(&s, order_id).await))
        });
    let refund = warp::path!("internal" / "payments" / u64 / "refund")
        .and(warp::post())
        .and(with_state(state))
        .and_then(
            |id, s: Arc<State>| async move { respond(reply(payments::refund(&s, id).await)) },
        );
    charge.or(by_order).unify().or(refund).unify()
}

async fn charge(state: Arc<State>, body: ChargeBody) -> Result<Response, PaymentError> {
    let req = NewPayment::parse(body).map_err(PaymentError::validation)?;
    reply(payments::charge(&state, req).await)
}

fn reply(result: Result<Payment, PaymentError>) -> Result<Response, PaymentError> {
    Ok(json_reply(StatusCode::OK, &view(result?)))
}
