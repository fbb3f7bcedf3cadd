//! The checkout saga (docs/checkout.md): reserve → charge → settle, and cancel; what a
//! request could not settle (gateway timeouts, crashes) reconcile.rs settles later. Every
//! step is idempotent and every status change conditional, so a request, a retry and the
//! reconciler can all work on one order without charging twice or leaking stock.

pub mod checkout;

use chrono::NaiveDateTime;
use mall_runtime::time::now_naive;
use secrecy::{ExposeSecret, SecretString};

use crate::clients::{ChargeRequest, PaymentStatus, ReserveRequest, Reserved, ReservedItem};
use crate::domain::{order_total, total_too_large, ItemQty};
use crate::error::OrderError;
use crate::state::{FailureReason, Status, Transition};
use crate::storage::{self, Item, Order};
use crate::State;

/// Who placed an order and whether it was ordered from the cart: what settling it `paid`
/// needs to empty the cart. The request that creates the order knows it; the reconciler
/// reads it.
#[derive(Clone, Copy, Debug)]
pub struct Origin {
    pub user_id: u64,
    pub from_cart: bool,
}

/// An order's priced lines (sorted by product), their total and currency: what it was
/// created with, and what the reservation priced it at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priced {
    pub lines: Vec<Item>,
    pub total: i64,
    pub currency: String,
}

impl Priced {
    /// `lines` in `currency`, sorted by product, with their total; `None` when a line's
    /// total or theirs is beyond what the mall can charge ([`order_total`]).
    pub fn new(lines: Option<Vec<Item>>, currency: String) -> Option<Self> {
        let mut lines = lines?;
        lines.sort_by_key(|l| l.product_id);
        let total = order_total(lines.iter().map(|l| (l.price, l.quantity)))?;
        Some(Self {
            lines,
            total,
            currency,
        })
    }
}

/// A new order this request settled `paid`: all that its answer needs, so it is not read
/// back (docs/checkout.md "The steps").
#[derive(Clone, Debug)]
pub struct Paid {
    pub priced: Priced,
    pub payment_id: u64,
    pub at: NaiveDateTime,
}

/// Runs a new order from `pending` as far as it can go now; `Some` when it is now paid
/// (by this call).
pub async fn run(
    state: &State,
    order_id: u64,
    origin: Origin,
    created: Priced,
    card_token: &SecretString,
) -> Result<Option<Paid>, OrderError> {
    let request = ReserveRequest {
        order_id,
        items: created
            .lines
            .iter()
            .map(|l| ItemQty {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect(),
    };
    let reservation = match state.clients.reserve(request).await {
        Ok(Reserved::Done(r)) => r,
        Ok(Reserved::OutOfStock(short)) => {
            let product_id = short.product_id;
            storage::transition(
                &state.pool,
                order_id,
                Transition::fail(FailureReason::OutOfStock),
            )
            .await?;
            tracing::info!(
                order_id,
                product_id,
                "order failed: out of stock; nothing charged"
            );
            return Err(OrderError::OutOfStock(product_id));
        }
        // Unknown whether anything was reserved: the reconciler will release and fail it.
        Err(e) => {
            tracing::warn!(
                order_id,
                error = format!("{e:#}"),
                "reservation outcome unknown; leaving the order pending"
            );
            return Ok(None);
        }
    };
    // Priced again from the reservation: a product's currency or price may have changed
    // since the order was checked (saga/checkout.rs), and rows written before the price
    // bound existed may hold any price.
    let priced = match reserved_prices(&reservation.items) {
        Ok(priced) => priced,
        Err((reason, error)) => {
            state.clients.product.release(order_id).await.ok();
            storage::transition(&state.pool, order_id, Transition::fail(reason)).await?;
            tracing::info!(
                order_id,
                reason = reason.as_str(),
                "order failed before the charge; stock released"
            );
            return Err(error);
        }
    };
    if priced != created {
        // Also sets updated_at: the order is being worked on (keeps the reconciler away).
        storage::set_items(
            &state.pool,
            order_id,
            &priced.lines,
            priced.total,
            &priced.currency,
        )
        .await?;
    }
    let charge = ChargeRequest {
        order_id,
        user_id: origin.user_id,
        amount: priced.total,
        currency: priced.currency.clone(),
        card_token: card_token.expose_secret(),
    };
    let payment = match state.clients.payment.charge(&charge).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(
                order_id,
                error = format!("{e:#}"),
                "payment outcome unknown; leaving the order pending"
            );
            return Ok(None);
        }
    };
    let paid_at = settle(state, order_id, payment.status, payment.id, Some(origin)).await?;
    Ok(paid_at.map(|at| Paid {
        priced,
        payment_id: payment.id,
        at,
    }))
}

/// The reservation's lines priced and totalled in their one currency, or why the order
/// fails before any charge.
fn reserved_prices(items: &[ReservedItem]) -> Result<Priced, (FailureReason, OrderError)> {
    let currency = items
        .first()
        .map(|i| i.currency.clone())
        .unwrap_or_else(|| "KRW".into());
    if items.iter().any(|i| i.currency != currency) {
        let e = OrderError::CurrencyMismatch("more than one currency".into());
        return Err((FailureReason::MixedCurrency, e));
    }
    let lines = items
        .iter()
        .map(|i| Item::priced(i.product_id, i.name.clone(), i.price, i.quantity))
        .collect();
    Priced::new(lines, currency).ok_or_else(|| {
        let e = OrderError::validation(total_too_large());
        (FailureReason::TotalTooLarge, e)
    })
}

/// Applies a known payment outcome to a pending order; `origin` when the caller knows it
/// (else it is read if the order is paid). `Some(when)` when this call made it `paid`.
pub(crate) async fn settle(
    state: &State,
    order_id: u64,
    payment_status: PaymentStatus,
    payment_id: u64,
    origin: Option<Origin>,
) -> Result<Option<NaiveDateTime>, OrderError> {
    match payment_status {
        PaymentStatus::Approved => {
            state
                .clients
                .commit(order_id)
                .await
                .map_err(OrderError::Unavailable)?;
            let at = now_naive();
            let pay = storage::Move {
                order_id,
                change: Transition::Pay { payment_id },
                at,
            };
            // A shared database error answers as the error itself would (503 when the
            // database is unavailable).
            let paid = (state.moves.apply(pay).await).map_err(anyhow::Error::from)?;
            if !paid {
                return Ok(None);
            }
            tracing::info!(order_id, payment_id, "order paid");
            empty_cart_if_ordered_from_it(state, order_id, origin).await;
            Ok(Some(at))
        }
        PaymentStatus::Declined => {
            state
                .clients
                .product
                .release(order_id)
                .await
                .map_err(OrderError::Unavailable)?;
            let declined = Transition::Fail {
                reason: FailureReason::PaymentDeclined,
                payment_id: Some(payment_id),
            };
            if storage::transition(&state.pool, order_id, declined).await? {
                tracing::info!(order_id, "order failed: payment declined; stock released");
            }
            Ok(None)
        }
        other @ (PaymentStatus::Pending | PaymentStatus::Refunded) => {
            tracing::info!(
                order_id,
                payment_status = other.as_str(),
                "payment not settled yet; order stays pending"
            );
            Ok(None)
        }
    }
}

async fn empty_cart_if_ordered_from_it(state: &State, order_id: u64, origin: Option<Origin>) {
    let origin = match origin {
        Some(known) => known,
        None => match storage::owner_and_origin(&state.pool, order_id).await {
            Ok(Some((user_id, from_cart))) => Origin { user_id, from_cart },
            _ => return,
        },
    };
    if origin.from_cart {
        if let Err(e) = state.clients.cart.clear(origin.user_id).await {
            tracing::warn!(
                order_id,
                error = format!("{e:#}"),
                "order paid but the cart could not be emptied"
            );
        }
    }
}

/// Cancel: refund, then restock, then `cancelled`; each step idempotent, so a cancel cut
/// short is finished by the next one.
pub async fn cancel(state: &State, order: &Order) -> Result<(), OrderError> {
    match order.status {
        Status::Cancelled => return Ok(()),
        Status::Paid => {}
        Status::Pending | Status::Failed => return Err(OrderError::NotCancellable),
    }
    let payment_id = order
        .payment_id
        .ok_or_else(|| anyhow::anyhow!("paid order {} has no payment", order.id))?;
    let refund = state
        .clients
        .payment
        .refund(payment_id)
        .await
        .map_err(OrderError::Unavailable)?;
    if refund.status != PaymentStatus::Refunded {
        let answered = refund.status.as_str();
        return Err(anyhow::anyhow!("refund of payment {payment_id} answered {answered}").into());
    }
    state
        .clients
        .product
        .release(order.id)
        .await
        .map_err(OrderError::Unavailable)?;
    if storage::transition(&state.pool, order.id, Transition::Cancel).await? {
        tracing::info!(
            order_id = order.id,
            payment_id,
            "order cancelled: refunded and restocked"
        );
    }
    Ok(())
}
