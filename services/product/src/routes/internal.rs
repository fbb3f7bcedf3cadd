//! The internal API (`/internal/…`, never exposed by nginx): the cart's batch lookup and
//! the order service's reservations.

use std::sync::Arc;

use http::StatusCode;
use mall_contracts::catalog_changes::{FRESH_ANSWER, FRESH_REQUEST};
use mall_contracts::product::{
    CommitOutcome, CommitsAnswer, CommitsRequest, Committed, OutOfStock, ProductStats, MAX_COMMITS,
};
use mall_http::error::{error_response_with, respond, ApiError};
use mall_http::filters::json_body;
use mall_runtime::trace::TraceId;
use serde::Deserialize;
use warp::reply::Response;
use warp::Filter;

use crate::cache::fresh_prices;
use crate::domain::{Reservation, ReservationMove, ReservationStatus, ReserveBody};
use crate::error::ProductError;
use crate::storage::products;
use crate::storage::reservations::{self, Moved, Reserve, Transition};
use crate::State;
use mall_http::filters::{json_bytes_reply, json_reply as json, with_state};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdsQuery {
    ids: String,
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let lookup = warp::path!("internal" / "products")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(warp::query::<IdsQuery>())
        .and_then(|s, q| async move { respond(lookup(s, q).await) });
    let reserve = warp::path!("internal" / "reservations")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|s, b| async move { respond(reserve(s, b).await) });
    let get = warp::path!("internal" / "reservations" / u64)
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|id, s| async move { respond(get(s, id).await) });
    let commit = warp::path!("internal" / "reservations" / u64 / "commit")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and_then(|id, s| async move { respond(transition(s, id, ReservationMove::Commit).await) });
    let commits = warp::path!("internal" / "reservations" / "commits")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|s, b| async move { respond(commit_many(s, b).await) });
    let release = warp::path!("internal" / "reservations" / u64 / "release")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and_then(
            |id, s| async move { respond(transition(s, id, ReservationMove::Release).await) },
        );
    let prices = warp::path!("internal" / "products" / "prices")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(warp::query::<IdsQuery>())
        .and(warp::header::optional::<String>(FRESH_REQUEST.0))
        .and_then(|s, q, c| async move { respond(prices(s, q, c).await) });
    let stats = warp::path!("internal" / "products" / "stats")
        .and(warp::get())
        .and(with_state(state))
        .and_then(|s: Arc<State>| async move { respond(stats(s).await) });
    lookup
        .or(prices)
        .unify()
        .or(stats)
        .unify()
        .or(reserve)
        .unify()
        .or(get)
        .unify()
        .or(commit)
        .unify()
        .or(commits)
        .unify()
        .or(release)
        .unify()
}

/// The most products one lookup names.
const MAX_IDS: usize = 200;

impl IdsQuery {
    fn ids(&self) -> Result<Vec<u64>, ProductError> {
        let ids: Vec<u64> = self
            .ids
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| ProductError::validation("ids must be comma-separated product ids"))?;
        if ids.len() > MAX_IDS {
            return Err(ProductError::validation(format!("at most {MAX_IDS} ids")));
        }
        Ok(ids)
    }
}

async fn lookup(state: Arc<State>, q: IdsQuery) -> Result<Response, ProductError> {
    let products = state.cache.products(&state.pool, &q.ids()?).await?;
    Ok(json_bytes_reply(StatusCode::OK, products))
}

/// Name, price and currency only: what the cart and a checkout need (no stock to read).
/// Asked with `Cache-Control: no-cache` (the cart filling its copy), read from MySQL, and
/// the answer says so.
async fn prices(
    state: Arc<State>,
    q: IdsQuery,
    cache_control: Option<String>,
) -> Result<Response, ProductError> {
    let ids = q.ids()?;
    if cache_control.is_some_and(|c| c.split(',').any(|d| d.trim() == FRESH_REQUEST.1)) {
        let mut reply = json_bytes_reply(StatusCode::OK, fresh_prices(&state.pool, &ids).await?);
        reply.headers_mut().insert(
            FRESH_ANSWER.0,
            http::HeaderValue::from_static(FRESH_ANSWER.1),
        );
        return Ok(reply);
    }
    let prices = state.cache.prices(&state.pool, &ids).await?;
    Ok(json_bytes_reply(StatusCode::OK, prices))
}

async fn reserve(state: Arc<State>, body: ReserveBody) -> Result<Response, ProductError> {
    let r = Reservation::parse(body).map_err(ProductError::validation)?;
    match reservations::reserve(&state.pool, &r).await? {
        Reserve::Done(view) => {
            let ids: Vec<u64> = r.items.iter().map(|i| i.product_id).collect();
            state.cache.stock_changed(&ids).await;
            tracing::info!(
                order_id = r.order_id,
                items = view.items.len(),
                "stock reserved"
            );
            Ok(json(StatusCode::OK, &view))
        }
        Reserve::OutOfStock { product_id } => {
            tracing::info!(
                order_id = r.order_id,
                product_id,
                "reservation refused: out of stock"
            );
            let refused = ProductError::OutOfStock { product_id };
            Ok(error_response_with(
                refused.status(),
                refused.code(),
                &refused.public_message(),
                "out_of_stock",
                &OutOfStock { product_id },
            ))
        }
        Reserve::Mismatch => Err(ProductError::Conflict(format!(
            "order {} was reserved with other items",
            r.order_id
        ))),
    }
}

async fn get(state: Arc<State>, order_id: u64) -> Result<Response, ProductError> {
    let view = reservations::find(&state.pool, order_id)
        .await?
        .ok_or_else(|| ProductError::not_found("no such reservation"))?;
    Ok(json(StatusCode::OK, &view))
}

/// `POST /internal/reservations/commits`: the order service's batched commits (concurrent
/// checkouts' reservations, committed in one transaction). Each order's commit is logged
/// under the trace id it came with, so every checkout's story shows its own commit.
async fn commit_many(state: Arc<State>, body: CommitsRequest) -> Result<Response, ProductError> {
    let asked = parse_commits(body).map_err(ProductError::validation)?;
    let mut ids: Vec<u64> = asked.iter().map(|(id, _)| *id).collect();
    // Rows are locked in ascending order, so two batches never deadlock.
    ids.sort_unstable();
    let moved = reservations::commit_many(&state.pool, &ids).await?;
    let by_id: std::collections::HashMap<u64, Moved> = ids.into_iter().zip(moved).collect();
    let batch = asked.len();
    let mut commits = Vec::with_capacity(batch);
    for (order_id, trace) in asked {
        let (outcome, status) = match by_id.get(&order_id) {
            Some(Moved::Applied | Moved::AlreadyDone) => {
                (CommitOutcome::Committed, Some(ReservationStatus::Committed))
            }
            Some(Moved::Refused(status)) => (CommitOutcome::Refused, Some(*status)),
            Some(Moved::NotFound) | None => (CommitOutcome::NotFound, None),
        };
        let span = match &trace {
            Some(id) => tracing::info_span!("commit", trace_id = %id),
            None => tracing::Span::none(),
        };
        span.in_scope(|| {
            let status = status.map_or("none", ReservationStatus::as_str);
            match outcome {
                CommitOutcome::Committed => {
                    tracing::info!(order_id, status, batch, "reservation committed");
                }
                CommitOutcome::Refused => {
                    tracing::info!(order_id, status, batch, "reservation commit refused");
                }
                CommitOutcome::NotFound => {
                    tracing::info!(order_id, batch, "no reservation to commit");
                }
            }
        });
        commits.push(Committed {
            order_id,
            outcome,
            status,
        });
    }
    Ok(json(StatusCode::OK, &CommitsAnswer { commits }))
}

/// A [`CommitsRequest`], checked: 1 to [`MAX_COMMITS`] distinct positive order ids, each
/// with a valid trace id or none, in the order asked.
fn parse_commits(body: CommitsRequest) -> Result<Vec<(u64, Option<TraceId>)>, String> {
    let n = body.commits.len();
    if n == 0 || n > MAX_COMMITS {
        return Err(format!("a batch commits 1 to {MAX_COMMITS} reservations"));
    }
    let mut seen = std::collections::HashSet::with_capacity(n);
    body.commits
        .into_iter()
        .map(|c| {
            if c.order_id == 0 || !seen.insert(c.order_id) {
                return Err("order ids must be positive and distinct".to_owned());
            }
            Ok((c.order_id, trace_of(c.trace_id.as_deref())?))
        })
        .collect()
}

/// The trace id a batch's item came with, checked: none, or a valid one.
pub(super) fn trace_of(given: Option<&str>) -> Result<Option<TraceId>, String> {
    given
        .map(|t| TraceId::parse(t).ok_or_else(|| "a trace id is 32 lowercase hex".to_owned()))
        .transpose()
}

async fn transition(
    state: Arc<State>,
    order_id: u64,
    step: ReservationMove,
) -> Result<Response, ProductError> {
    let outcome = match step {
        ReservationMove::Commit => reservations::commit(&state.pool, order_id).await?,
        ReservationMove::Release => reservations::release(&state.pool, order_id).await?,
    };
    // `none`: a release of an order that never reserved (nothing to put back).
    let status = match outcome {
        Transition::Done(status) => status.map_or("none", ReservationStatus::as_str),
        Transition::Restocked(products) => {
            state.cache.stock_changed(&products).await;
            ReservationStatus::Released.as_str()
        }
        Transition::NotFound => return Err(ProductError::not_found("no such reservation")),
        Transition::Refused(why) => return Err(ProductError::Conflict(why)),
    };
    tracing::info!(order_id, status, "reservation {}", step.target().as_str());
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "order_id": order_id, "status": status }),
    ))
}

async fn stats(state: Arc<State>) -> Result<Response, ProductError> {
    let products = products::count(&state.pool).await?;
    Ok(json(StatusCode::OK, &ProductStats { products }))
}
