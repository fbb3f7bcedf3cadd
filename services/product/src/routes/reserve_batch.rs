//! `POST /internal/reservations/batch`: the order service's batched reservations
//! (concurrent checkouts' orders reserved in one transaction, each all or none). Each
//! order's outcome is what `POST /internal/reservations` would answer it, and is logged
//! under the trace id it came with, so every checkout's story shows its own reservation.

use std::sync::Arc;

use http::StatusCode;
use mall_contracts::product::{
    ReserveOutcome, ReserveRequest, ReservesAnswer, ReservesRequest, MAX_RESERVES,
};
use mall_http::error::respond;
use mall_http::filters::{json_body, json_reply as json, with_state};
use mall_runtime::trace::TraceId;
use mall_store::batched::in_key_order;
use warp::reply::Response;
use warp::Filter;

use crate::domain::Reservation;
use crate::error::ProductError;
use crate::storage::reservations::{self, Reserve};
use crate::storage::reserve_many::{reserve_many, Reserved};
use crate::State;

pub fn route(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::path!("internal" / "reservations" / "batch")
        .and(warp::post())
        .and(with_state(state))
        .and(json_body())
        .and_then(|s, b| async move { respond(reserve_batch(s, b).await) })
}

async fn reserve_batch(state: Arc<State>, body: ReservesRequest) -> Result<Response, ProductError> {
    let asked = parse(body).map_err(ProductError::validation)?;
    // Called by ascending order id (the order the reservation rows are locked in),
    // answered in the order asked.
    let done = in_key_order(
        asked.iter().map(|(r, _)| r).collect(),
        |r| r.order_id,
        |sorted| reserve_many(&state.pool, sorted),
    )
    .await?;
    let batch = asked.len();
    let mut changed: Vec<u64> = Vec::new();
    let mut answers = Vec::with_capacity(batch);
    for ((r, trace), done) in asked.into_iter().zip(done) {
        let reserved = match done {
            Reserved::Done(view) => Reserve::Done(view),
            Reserved::OutOfStock { product_id } => Reserve::OutOfStock { product_id },
            // A replay: answered as the single call answers it (its items compared).
            Reserved::Exists => reservations::reserve(&state.pool, &r).await?,
        };
        let order_id = r.order_id;
        let span = match &trace {
            Some(id) => tracing::info_span!("reserve", trace_id = %id),
            None => tracing::Span::none(),
        };
        let _entered = span.enter();
        answers.push(match reserved {
            Reserve::Done(reservation) => {
                changed.extend(r.items.iter().map(|i| i.product_id));
                let items = reservation.items.len();
                tracing::info!(order_id, items, batch, "stock reserved");
                ReserveOutcome::Reserved { reservation }
            }
            Reserve::OutOfStock { product_id } => {
                tracing::info!(
                    order_id,
                    product_id,
                    batch,
                    "reservation refused: out of stock"
                );
                ReserveOutcome::OutOfStock {
                    order_id,
                    product_id,
                }
            }
            Reserve::Mismatch => {
                tracing::warn!(
                    order_id,
                    batch,
                    "reservation refused: the order was reserved with other items"
                );
                ReserveOutcome::Conflict { order_id }
            }
        });
    }
    changed.sort_unstable();
    changed.dedup();
    state.cache.stock_changed(&changed).await;
    Ok(json(
        StatusCode::OK,
        &ReservesAnswer {
            reservations: answers,
        },
    ))
}

/// A [`ReservesRequest`], checked: 1 to [`MAX_RESERVES`] distinct orders, each a valid
/// reservation ([`Reservation::parse`]) with a valid trace id or none, in the order asked.
fn parse(body: ReservesRequest) -> Result<Vec<(Reservation, Option<TraceId>)>, String> {
    let n = body.reservations.len();
    if n == 0 || n > MAX_RESERVES {
        return Err(format!("a batch reserves for 1 to {MAX_RESERVES} orders"));
    }
    let mut seen = std::collections::HashSet::with_capacity(n);
    body.reservations
        .into_iter()
        .map(|r| {
            if !seen.insert(r.order_id) {
                return Err("order ids must be distinct".to_owned());
            }
            let trace = super::internal::trace_of(r.trace_id.as_deref())?;
            let one = ReserveRequest {
                order_id: r.order_id,
                items: r.items,
            };
            Ok((Reservation::parse(one)?, trace))
        })
        .collect()
}
