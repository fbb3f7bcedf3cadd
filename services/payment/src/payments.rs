//! What the payment service does, between the routes (HTTP) and the storage (SQL) and
//! gateway (HTTP out): charge once per order, reconcile a payment whose outcome is
//! unknown, refund once.
//!
//! The rules that keep money right:
//! - one payment per order (unique key, inserted before the gateway is called: concurrent
//!   callers find the winner's row);
//! - one gateway idempotency key per order (`pay-<order_id>`), so any number of attempts,
//!   from any copy of the service, makes at most one charge;
//! - no answer from the gateway leaves the payment `pending` (never guessed);
//! - a `pending` payment becomes `declined` without a charge only when the gateway has no
//!   charge under its key and no attempt started for `SETTLE_UNKNOWN_AFTER_SECS`;
//! - every state change is conditional on the state it starts from.

use mall_runtime::time::now_naive;
use tracing::instrument;

use crate::clients::gateway::{GatewayCharge, GatewayError};
use crate::domain::{self, NewPayment, Status};
use crate::error::PaymentError;
use crate::storage::{self, Inserted, Payment};
use crate::State;

/// `POST /internal/payments`: the order's payment, charging it if it is new or still
/// `pending`.
#[instrument(skip_all, fields(order_id = req.order_id, payment_id = tracing::field::Empty))]
pub async fn charge(state: &State, req: NewPayment) -> Result<Payment, PaymentError> {
    match storage::insert_pending(&state.batches, &state.pool, &req, now_naive()).await? {
        Inserted::New(p) => {
            tracing::Span::current().record("payment_id", p.id);
            tracing::info!(amount = p.amount, currency = %p.currency, "payment created");
            attempt(state, p, &req).await
        }
        Inserted::Existing(p) => {
            tracing::Span::current().record("payment_id", p.id);
            if p.amount != req.amount || p.currency != req.currency || p.user_id != req.user_id {
                return Err(PaymentError::conflict(
                    "this order was charged before with another amount, currency or user",
                ));
            }
            if p.status != Status::Pending {
                return Ok(p);
            }
            retry(state, p, &req).await
        }
    }
}

/// A `pending` payment charged again: ask the gateway first (an earlier attempt may have
/// been charged and only its answer lost), then charge under the same key.
async fn retry(state: &State, p: Payment, req: &NewPayment) -> Result<Payment, PaymentError> {
    match state.gateway.find(&req.gateway_key()).await {
        Ok(Some(found)) => return settle_from(state, p, found).await,
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "cannot ask the gateway; the payment stays pending"
            );
            return Ok(p);
        }
    }
    if !storage::claim_attempt(&state.pool, p.id, now_naive()).await? {
        // Settled meanwhile by someone else.
        return reload(state, p.id).await;
    }
    tracing::info!("charging again under the same idempotency key");
    attempt(state, p, req).await
}

async fn attempt(state: &State, p: Payment, req: &NewPayment) -> Result<Payment, PaymentError> {
    match state.gateway.charge(req).await {
        Ok(charge) => settle_from(state, p, charge).await,
        Err(e) => {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "no answer from the gateway; the payment stays pending"
            );
            reload(state, p.id).await
        }
    }
}

/// Records what the gateway says about the payment's charge.
async fn settle_from(
    state: &State,
    p: Payment,
    charge: GatewayCharge,
) -> Result<Payment, PaymentError> {
    let Some(status) = Status::parse(&charge.status).filter(|s| *s != Status::Pending) else {
        tracing::warn!(gateway_status = %charge.status, "unexpected charge status; the payment stays pending");
        return Ok(p);
    };
    if charge.amount != p.amount {
        // Our key, another amount: never settle on a charge that is not this payment's.
        tracing::error!(
            gateway_charge_id = %charge.id,
            gateway_amount = charge.amount,
            amount = p.amount,
            "the gateway's charge under this payment's key has another amount; the payment stays pending"
        );
        return Ok(p);
    }
    let current = match storage::settle(&state.batches, &p, status, &charge.id, now_naive()).await?
    {
        Some(settled) => {
            tracing::info!(
                status = status.as_str(),
                gateway_charge_id = %charge.id,
                "payment settled"
            );
            settled
        }
        // Settled meanwhile by someone else: their fact stands.
        None => reload(state, p.id).await?,
    };
    if current.status == Status::Declined && status == Status::Approved {
        void_orphan(state, &current, &charge).await;
    }
    Ok(current)
}

/// The gateway approved a charge for a payment settled `declined` as never charged. The
/// configuration rules this out (settling waits longer than any attempt may take), but if
/// it happens the customer must not pay for a failed order: refund it.
async fn void_orphan(state: &State, p: &Payment, charge: &GatewayCharge) {
    tracing::error!(
        gateway_charge_id = %charge.id,
        "an approved charge exists for a payment settled as declined; refunding it"
    );
    if let Err(e) = state
        .gateway
        .refund(&charge.id, &domain::refund_key(p.id))
        .await
    {
        tracing::error!(
            error = &e as &dyn std::error::Error,
            gateway_charge_id = %charge.id,
            "could not refund the orphan charge; refund it by hand"
        );
    }
}

/// `GET /internal/payments/by-order/{order_id}`: the payment, reconciled with the gateway
/// while `pending`.
#[instrument(skip_all, fields(order_id = order_id, payment_id = tracing::field::Empty))]
pub async fn by_order(state: &State, order_id: u64) -> Result<Payment, PaymentError> {
    let p = storage::find_by_order(&state.pool, order_id)
        .await?
        .ok_or_else(|| PaymentError::not_found("no payment for this order"))?;
    tracing::Span::current().record("payment_id", p.id);
    if p.status != Status::Pending {
        return Ok(p);
    }
    match state.gateway.find(&domain::charge_key(order_id)).await {
        Ok(Some(found)) => settle_from(state, p, found).await,
        Ok(None)
            if domain::never_charged(now_naive(), p.updated_at, state.settle_unknown_after) =>
        {
            if storage::decline_untouched(&state.pool, p.id, p.updated_at, now_naive()).await? {
                tracing::info!("the charge never reached the gateway; payment declined");
            }
            reload(state, p.id).await
        }
        Ok(None) => Ok(p),
        Err(e) => {
            tracing::warn!(
                error = &e as &dyn std::error::Error,
                "cannot reconcile with the gateway; the payment stays pending"
            );
            Ok(p)
        }
    }
}

/// `POST /internal/payments/{id}/refund`: refunds an approved payment once.
#[instrument(skip_all, fields(payment_id = id))]
pub async fn refund(state: &State, id: u64) -> Result<Payment, PaymentError> {
    let p = find(state, id).await?;
    match p.status {
        Status::Refunded => return Ok(p),
        Status::Approved => {}
        other => {
            return Err(PaymentError::conflict(format!(
                "the payment is {}; only approved payments can be refunded",
                other.as_str()
            )))
        }
    }
    let charge_id = match &p.gateway_charge_id {
        Some(id) => id.clone(),
        None => {
            state
                .gateway
                .find(&domain::charge_key(p.order_id))
                .await
                .map_err(gateway_error)?
                .ok_or_else(|| {
                    PaymentError::GatewayRefused(anyhow::anyhow!(
                        "the gateway has no charge for an approved payment"
                    ))
                })?
                .id
        }
    };
    let refunded = state
        .gateway
        .refund(&charge_id, &domain::refund_key(p.id))
        .await
        .map_err(gateway_error)?;
    if refunded.status != Status::Refunded.as_str() {
        return Err(PaymentError::GatewayRefused(anyhow::anyhow!(
            "the gateway answered a refund with status {}",
            refunded.status
        )));
    }
    if storage::mark_refunded(&state.pool, p.id, now_naive()).await? {
        tracing::info!(gateway_charge_id = %charge_id, "payment refunded");
    }
    reload(state, p.id).await
}

/// A payment by id.
pub async fn find(state: &State, id: u64) -> Result<Payment, PaymentError> {
    storage::find(&state.pool, id)
        .await?
        .ok_or_else(|| PaymentError::not_found("no such payment"))
}

async fn reload(state: &State, id: u64) -> Result<Payment, PaymentError> {
    storage::find(&state.pool, id)
        .await?
        .ok_or_else(|| PaymentError::from(anyhow::anyhow!("payment {id} vanished")))
}

fn gateway_error(e: GatewayError) -> PaymentError {
    match e {
        GatewayError::Unavailable(_) => PaymentError::GatewayUnavailable(e.into()),
        GatewayError::Refused { .. } | GatewayError::BadAnswer(_) => {
            PaymentError::GatewayRefused(e.into())
        }
    }
}
