//! `GET /api/payments/{id}`: a shopper's own payment. Another user's payment is 404, not
//! 403, so ids reveal nothing.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::respond;
use mall_http::filters::{identity, json_reply, with_state, Identity, PathId};
use mall_runtime::time::rfc3339;
use serde::Serialize;
use warp::reply::Response;
use warp::Filter;

use crate::domain::Status;
use crate::error::PaymentError;
use crate::payments;
use crate::State;

#[derive(Debug, Serialize)]
struct PublicPayment {
    id: u64,
    order_id: u64,
    amount: i64,
    /// The currency of `amount` (every amount carries its currency).
    currency: String,
    status: Status,
    created_at: String,
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("api" / "payments" / PathId)
        .and(warp::get())
        .and(identity())
        .and(with_state(state))
        .and_then(|PathId(id), who, s| async move { respond(get(s, who, id).await) })
}

async fn get(state: Arc<State>, who: Identity, id: u64) -> Result<Response, PaymentError> {
    let p = payments::find(&state, id).await?;
    if p.user_id != who.user_id {
        return Err(PaymentError::not_found("no such payment"));
    }
    Ok(json_reply(
        StatusCode::OK,
        &PublicPayment {
            id: p.id,
            order_id: p.order_id,
            amount: p.amount,
            currency: p.currency,
            status: p.status,
            created_at: rfc3339(p.created_at),
        },
    ))
}
