//! Reconciliation (docs/checkout.md, step 5): at start-up and every few seconds, every
//! pending order nobody has touched for a while is settled from its payment's real state,
//! under the trace of the request that created it.

use std::time::Duration;

use tracing::Instrument;

use mall_runtime::trace::{self, TraceId};

use crate::clients::PaymentStatus;
use crate::saga::settle;
use crate::state::{FailureReason, Transition};
use crate::storage;
use crate::State;

/// One reconciliation round over stale pending orders.
pub async fn reconcile_once(state: &State) -> anyhow::Result<usize> {
    let stale = storage::stale_pending(&state.pool, state.reconcile_after.as_secs()).await?;
    let mut settled = 0;
    for (order_id, trace) in stale {
        // Settled under the trace of the request that created the order, so the customer's
        // trace id tells the whole story, and the calls made here carry that id.
        let trace = trace
            .as_deref()
            .and_then(TraceId::parse)
            .unwrap_or_else(TraceId::generate);
        let span = tracing::info_span!("reconcile", trace_id = %trace, order_id);
        let work = trace::scope(trace, reconcile_order(state, order_id)).instrument(span.clone());
        match work.await {
            Ok(true) => settled += 1,
            Ok(false) => {}
            Err(e) => span.in_scope(|| {
                tracing::warn!(
                    order_id,
                    error = format!("{e:#}"),
                    "reconciliation of an order failed; retrying next round"
                )
            }),
        }
    }
    Ok(settled)
}

async fn reconcile_order(state: &State, order_id: u64) -> anyhow::Result<bool> {
    match state.clients.payment.of_order(order_id).await? {
        Some(p) if matches!(p.status, PaymentStatus::Approved | PaymentStatus::Declined) => {
            settle(state, order_id, p.status, p.id, None)
                .await
                .map_err(anyhow::Error::new)?;
            tracing::info!(
                order_id = order_id,
                payment_status = p.status.as_str(),
                "reconciled from the payment's real state"
            );
            Ok(true)
        }
        Some(_) => Ok(false),
        // The charge never reached the payment service: nothing was charged.
        None => {
            state.clients.product.release(order_id).await?;
            let never_charged = Transition::fail(FailureReason::NotCharged);
            if storage::transition(&state.pool, order_id, never_charged).await? {
                tracing::info!(
                    order_id = order_id,
                    "reconciled: never charged; stock released, order failed"
                );
            }
            Ok(true)
        }
    }
}

/// Reconciles at start-up and then every `every`, until the task is dropped.
pub async fn reconcile_forever(state: std::sync::Arc<State>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match reconcile_once(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "reconciliation round"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "reconciliation round failed"),
        }
    }
}
