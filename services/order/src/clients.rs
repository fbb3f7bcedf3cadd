//! The other services as the order service sees them: the typed clients of
//! `mall-contracts`, each calling the callee's live blue/green slot (through nginx's
//! internal listener, or directly where the config names both slots), every call carrying
//! the request's trace id. Reservations and their commits are batched: concurrent checkouts
//! share one call ([`Clients::reserve`], [`Clients::commit`]).

use std::future::Future;

use mall_contracts::cart::CartClient;
use mall_contracts::payment::PaymentClient;
use mall_contracts::product::{
    CommitOf, CommitOutcome, CommitsRequest, OutOfStock, ProductClient, ReserveOf, ReserveOutcome,
    ReservesRequest, MAX_COMMITS, MAX_RESERVES,
};
use mall_contracts::user::UserClient;
use mall_contracts::{ServiceClient, Target};
use mall_runtime::batch::Batcher;
use mall_runtime::trace::{self, TraceId};

pub use mall_contracts::payment::{ChargeRequest, PaymentStatus};
pub use mall_contracts::product::{ReserveRequest, Reserved, ReservedItem};

#[derive(Clone)]
pub struct Clients {
    pub product: ProductClient,
    pub cart: CartClient,
    pub payment: PaymentClient,
    pub user: UserClient,
    reserves: Batcher<(ReserveRequest, Option<TraceId>), Result<Reserved, String>>,
    commits: Batcher<(u64, Option<TraceId>), Result<(), String>>,
}

impl Clients {
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Self> {
        let c = |target: &Target| ServiceClient::to(target.clone(), config.call_timeout);
        let product = ProductClient::new(c(&config.product)?);
        let batch_to = product.clone();
        let reserve_to = product.clone();
        Ok(Self {
            reserves: Batcher::start(MAX_RESERVES, move |orders| {
                reserve_batch(reserve_to.clone(), orders)
            }),
            commits: Batcher::start(MAX_COMMITS, move |orders| {
                commit_batch(batch_to.clone(), orders)
            }),
            product,
            cart: CartClient::new(c(&config.cart)?),
            payment: PaymentClient::new(c(&config.payment)?),
            user: UserClient::new(c(&config.user)?),
        })
    }
}

impl Clients {
    /// Reserves the stock of an order, all of it or none (idempotent on the order id), in
    /// one call with the reservations of whatever other checkouts reach this step
    /// meanwhile; product logs each under its own request's trace id. A refusal for stock
    /// is [`Reserved::OutOfStock`], any other refusal an error (as
    /// [`ProductClient::reserve`] answers).
    pub async fn reserve(&self, request: ReserveRequest) -> anyhow::Result<Reserved> {
        let outcome = self.reserves.submit((request, trace::current())).await?;
        outcome.map_err(anyhow::Error::msg)
    }

    /// Commits the reservation of `order_id` (idempotent), in one call with the commits of
    /// whatever other checkouts reach this step meanwhile (`mall_runtime::batch`); product
    /// logs each under its own request's trace id. Returns once this order's is done.
    pub async fn commit(&self, order_id: u64) -> anyhow::Result<()> {
        let outcome = self.commits.submit((order_id, trace::current())).await?;
        outcome.map_err(anyhow::Error::msg)
    }
}

/// One batch of reservations: one call for the distinct orders (an order twice in a batch
/// is sent once and answered to both). A product slot from before the batch route answers
/// 404: then one call per order, under its trace id.
async fn reserve_batch(
    product: ProductClient,
    orders: Vec<(ReserveRequest, Option<TraceId>)>,
) -> Vec<Result<Reserved, String>> {
    let mut distinct: Vec<ReserveOf> = Vec::with_capacity(orders.len());
    for (r, trace) in &orders {
        if !distinct.iter().any(|d| d.order_id == r.order_id) {
            distinct.push(ReserveOf {
                order_id: r.order_id,
                items: r.items.clone(),
                trace_id: trace.as_ref().map(ToString::to_string),
            });
        }
    }
    let request = ReservesRequest {
        reservations: distinct,
    };
    let called = product.reserve_many(&request).await.map(|answer| {
        answer.map(|a| {
            let each = a.reservations.into_iter().map(|outcome| {
                let order_id = outcome.order_id();
                let reserved = match outcome {
                    ReserveOutcome::Reserved { reservation } => Ok(Reserved::Done(reservation)),
                    ReserveOutcome::OutOfStock { product_id, .. } => {
                        Ok(Reserved::OutOfStock(OutOfStock { product_id }))
                    }
                    ReserveOutcome::Conflict { .. } => {
                        Err("the reservation was refused: conflict".to_owned())
                    }
                };
                (order_id, reserved)
            });
            each.collect()
        })
    });
    let ids: Vec<(u64, Option<&TraceId>)> = orders
        .iter()
        .map(|(r, t)| (r.order_id, t.as_ref()))
        .collect();
    per_order(&ids, called, |i| product.reserve(&orders[i].0)).await
}

/// A batch route's answer: each order's id and outcome.
type Answered<T> = Vec<(u64, Result<T, String>)>;

/// Each order's outcome of a batch call (`called`), in the order of `orders` (id, trace
/// id): the batch route's answers by order id (an order it left out is an error); when
/// the callee has no batch route (`Ok(None)`), one call per order (`alone(i)`, the i-th
/// order's), each under its own trace id; when the call failed, its error for every order.
async fn per_order<T, Fut>(
    orders: &[(u64, Option<&TraceId>)],
    called: anyhow::Result<Option<Answered<T>>>,
    alone: impl Fn(usize) -> Fut,
) -> Vec<Result<T, String>>
where
    T: Clone,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let answered = match called {
        Ok(Some(answered)) => answered,
        Ok(None) => {
            let mut each = Vec::with_capacity(orders.len());
            for (i, (order_id, trace)) in orders.iter().enumerate() {
                let done = match trace {
                    Some(id) => trace::scope((*id).clone(), alone(i)).await,
                    None => alone(i).await,
                };
                each.push((*order_id, done.map_err(|e| format!("{e:#}"))));
            }
            each
        }
        Err(e) => {
            let why = format!("{e:#}");
            orders
                .iter()
                .map(|(id, _)| (*id, Err(why.clone())))
                .collect()
        }
    };
    orders
        .iter()
        .map(|(order_id, _)| {
            answered.iter().find(|(id, _)| id == order_id).map_or_else(
                || Err(format!("order {order_id} got no answer")),
                |(_, o)| o.clone(),
            )
        })
        .collect()
}

/// One batch of commits: one call for the distinct orders (an order twice in a batch, a
/// request's and the reconciler's, is sent once and answered to both). A product slot
/// from before the batch route answers 404: then one call per order, under its trace id.
async fn commit_batch(
    product: ProductClient,
    orders: Vec<(u64, Option<TraceId>)>,
) -> Vec<Result<(), String>> {
    let mut distinct: Vec<CommitOf> = Vec::with_capacity(orders.len());
    for (order_id, trace) in &orders {
        if !distinct.iter().any(|c| c.order_id == *order_id) {
            distinct.push(CommitOf {
                order_id: *order_id,
                trace_id: trace.as_ref().map(ToString::to_string),
            });
        }
    }
    let request = CommitsRequest { commits: distinct };
    let called = product.commit_many(&request).await.map(|answer| {
        answer.map(|a| {
            let each = a.commits.iter().map(|c| {
                let outcome = match c.outcome {
                    CommitOutcome::Committed => Ok(()),
                    CommitOutcome::Refused => Err(format!(
                        "the reservation of order {} is {}",
                        c.order_id,
                        c.status.map_or("refused", |s| s.as_str())
                    )),
                    CommitOutcome::NotFound => {
                        Err(format!("order {} has no reservation", c.order_id))
                    }
                };
                (c.order_id, outcome)
            });
            each.collect()
        })
    });
    let ids: Vec<(u64, Option<&TraceId>)> = orders.iter().map(|(o, t)| (*o, t.as_ref())).collect();
    per_order(&ids, called, |i| product.commit(orders[i].0)).await
}
