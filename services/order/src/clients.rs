//! The other services as the order service sees them: the typed clients of
//! `mall-contracts`, each calling the callee's live blue/green slot (through nginx's
//! internal listener, or directly where the config names both slots), every call carrying
//! the request's trace id. Reservation commits are batched: concurrent checkouts share one
//! call ([`Clients::commit`]).

use mall_contracts::cart::CartClient;
use mall_contracts::payment::PaymentClient;
use mall_contracts::product::{
    CommitOf, CommitOutcome, CommitsRequest, ProductClient, MAX_COMMITS,
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
    commits: Batcher<(u64, Option<TraceId>), Result<(), String>>,
}

impl Clients {
    pub fn new(config: &crate::config::Config) -> anyhow::Result<Self> {
        let c = |target: &Target| ServiceClient::to(target.clone(), config.call_timeout);
        let product = ProductClient::new(c(&config.product)?);
        let batch_to = product.clone();
        Ok(Self {
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
    /// Commits the reservation of `order_id` (idempotent), in one call with the commits of
    /// whatever other checkouts reach this step meanwhile (`mall_runtime::batch`); product
    /// logs each under its own request's trace id. Returns once this order's is done.
    pub async fn commit(&self, order_id: u64) -> anyhow::Result<()> {
        let outcome = self.commits.submit((order_id, trace::current())).await?;
        outcome.map_err(anyhow::Error::msg)
    }
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
    let answered: Vec<(u64, Result<(), String>)> = match product.commit_many(&request).await {
        Ok(Some(answer)) => answer
            .commits
            .iter()
            .map(|c| {
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
            })
            .collect(),
        Ok(None) => {
            let mut each = Vec::with_capacity(orders.len());
            for (order_id, trace) in &orders {
                let call = product.commit(*order_id);
                let done = match trace {
                    Some(id) => trace::scope(id.clone(), call).await,
                    None => call.await,
                };
                each.push((*order_id, done.map_err(|e| format!("{e:#}"))));
            }
            each
        }
        Err(e) => {
            let why = format!("{e:#}");
            let failed = request
                .commits
                .iter()
                .map(|c| (c.order_id, Err(why.clone())));
            failed.collect()
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
