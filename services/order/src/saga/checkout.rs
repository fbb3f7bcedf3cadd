//! A checkout request, from the route to the order it answers, read top to bottom:
//!
//! 1. what to order: the body's items (live products) or the cart's lines, priced, in one
//!    currency;
//! 2. claim the idempotency key: the pending order's insert with its lines (batched with
//!    concurrent checkouts': `order_create_many_v1`) either creates the order or meets the
//!    key, which makes this request a replay;
//! 3. run the saga ([`super::run`]): reserve, charge, settle;
//! 4. the order: as this request made it when it paid it (no read), else as it is now.
//!
//! A replay (the same key with the same request) answers the order the key names, waiting
//! a little for one still being worked on; the same key with another request is refused.
//! A request that cannot become an order (empty cart, bad items, a service down) is a
//! replay too when its key already names an order: the order decides the answer, as if the
//! key had been looked up first (a retry of a cart checkout whose cart that order emptied
//! replays the order, not `cart_empty`). A new order costs no lookup: the key is told apart
//! by the duplicate key at the insert.

use std::time::Duration;

use chrono::NaiveDateTime;
use mall_runtime::time::{now_naive, rfc3339};
use secrecy::SecretString;

use super::{Origin, Paid, Priced};
use crate::domain::{
    check_items, check_lines, total_too_large, IdempotencyKey, ItemQty, OrderBody,
};
use crate::error::OrderError;
use crate::state::Status;
use crate::storage::{self, Change, Create, Item, NewOrder, Order};
use crate::State;

/// One checkout request, parsed.
pub struct Checkout<'a> {
    pub user_id: u64,
    pub key: &'a IdempotencyKey,
    pub body: &'a OrderBody,
}

/// How long a replay waits for the outcome of an order still being worked on before it
/// answers it pending: longer than a checkout takes when the card gateway answers at its
/// slowest (payment's 3 s gateway timeout), short enough that a retry is never held for the
/// reconciliation of an unknown outcome (docs/openapi.yaml: `202` pending, poll the order).
const REPLAY_WAIT: Duration = Duration::from_secs(5);

/// Runs a checkout request to the order it answers (steps 1 to 4 above).
pub async fn checkout(state: &State, request: Checkout<'_>) -> Result<Order, OrderError> {
    let hash = request.body.request_hash();
    let from_cart = request.body.items.is_none();
    // 1. What to order.
    let priced = match order_lines(state, request.user_id, request.body).await {
        Ok(found) => found,
        Err(refused) => return replay(state, &request, &hash).await?.ok_or(refused),
    };
    // 2. Claim the key: the order is created with its lines.
    let created_at = now_naive();
    let new = NewOrder {
        user_id: request.user_id,
        key: request.key.as_str(),
        hash: &hash,
        currency: &priced.currency,
        from_cart,
        lines: &priced.lines,
        total: priced.total,
    };
    let created = state.creates.create(Create::of(new, created_at)).await;
    let Some(order_id) = created.map_err(anyhow::Error::from)? else {
        // A retry, or a concurrent request with the same key that created it first.
        return replay(state, &request, &hash)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order vanished after a duplicate key").into());
    };
    tracing::info!(
        order_id,
        items = priced.lines.len(),
        from_cart,
        "order created"
    );
    // 3. Run the saga.
    let origin = Origin {
        user_id: request.user_id,
        from_cart,
    };
    let card_token: &SecretString = &request.body.payment.card_token;
    match super::run(state, order_id, origin, priced, card_token).await? {
        // 4. The order as this request made it: what a read would answer, without the read.
        Some(paid) => Ok(paid_order(order_id, request.user_id, created_at, paid)),
        // 4. The order as it is now (pending: its outcome is not known yet).
        None => current(state, order_id).await,
    }
}

/// A new order this request created at `created_at` and settled `paid`, as
/// [`storage::find`] would read it: its two history rows are the ones written, at the
/// times written (DATETIME(6) keeps the microseconds [`now_naive`] has).
fn paid_order(order_id: u64, user_id: u64, created_at: NaiveDateTime, paid: Paid) -> Order {
    let history = [(Status::Pending, created_at), (Status::Paid, paid.at)];
    Order {
        id: order_id,
        user_id: None,
        owner: user_id,
        status: Status::Paid,
        items: paid.priced.lines,
        total: paid.priced.total,
        currency: paid.priced.currency,
        payment_id: Some(paid.payment_id),
        created_at: rfc3339(created_at),
        status_history: Some(
            history
                .into_iter()
                .map(|(status, at)| Change {
                    status,
                    at: rfc3339(at),
                })
                .collect(),
        ),
        failure_reason: None,
    }
}

/// The order `id`, as stored now.
pub async fn current(state: &State, order_id: u64) -> Result<Order, OrderError> {
    storage::find(&state.pool, order_id, None)
        .await?
        .ok_or_else(|| OrderError::not_found("no such order"))
}

/// The order the request's key names, if any: refused when it was made by another request,
/// else as it is once settled (or still pending after [`REPLAY_WAIT`]).
async fn replay(
    state: &State,
    request: &Checkout<'_>,
    hash: &str,
) -> Result<Option<Order>, OrderError> {
    let Some(existing) =
        storage::find_by_key(&state.pool, request.user_id, request.key.as_str()).await?
    else {
        return Ok(None);
    };
    if existing.request_hash != hash {
        return Err(OrderError::IdempotencyKeyReused);
    }
    let mut order = current(state, existing.id).await?;
    let step = Duration::from_millis(100);
    for _ in 0..REPLAY_WAIT.as_millis() / step.as_millis() {
        if order.status != Status::Pending {
            break;
        }
        tokio::time::sleep(step).await;
        order = current(state, existing.id).await?;
    }
    Ok(Some(order))
}

/// The lines to order, checked and priced, in their one currency: the body's `items`,
/// which must name live products, or the cart's lines. The cart service prices the cart
/// through the catalog's batch lookup and leaves out the lines of products gone from it
/// (cart's `routes::priced`), so its lines name live products already and are not looked
/// up a second time. Items in more than one currency, or a total beyond what the mall can
/// charge, are refused before anything is created or reserved (both are checked again
/// after the reservation, with the prices it reserved at: saga/mod.rs).
async fn order_lines(state: &State, user_id: u64, body: &OrderBody) -> Result<Priced, OrderError> {
    let (lines, currency) = match &body.items {
        None => {
            let cart = state
                .clients
                .cart
                .cart(user_id)
                .await
                .map_err(OrderError::Unavailable)?;
            if cart.items.is_empty() {
                return Err(OrderError::CartEmpty);
            }
            let qty: Vec<ItemQty> = cart
                .items
                .iter()
                .map(|l| ItemQty {
                    product_id: l.product_id,
                    quantity: l.quantity,
                })
                .collect();
            check_lines(&qty).map_err(OrderError::validation)?;
            let currency = one_currency(cart.items.iter().map(|l| l.currency.as_str()))?;
            let lines = cart
                .items
                .into_iter()
                .map(|l| Item::priced(l.product_id, l.name, l.price, l.quantity));
            (lines.collect::<Option<Vec<Item>>>(), currency)
        }
        Some(sent) => {
            let items = check_items(sent).map_err(OrderError::validation)?;
            let ids: Vec<u64> = items.iter().map(|i| i.product_id).collect();
            let live = state
                .clients
                .product
                .prices(&ids)
                .await
                .map_err(OrderError::Unavailable)?;
            let mut lines = Vec::with_capacity(items.len());
            for i in &items {
                let Some(p) = live.iter().find(|p| p.id == i.product_id) else {
                    let missing = i.product_id;
                    return Err(OrderError::not_found(format!("no such product: {missing}")));
                };
                lines.push(Item::priced(p.id, p.name.clone(), p.price, i.quantity));
            }
            let currency = one_currency(live.iter().map(|p| p.currency.as_str()))?;
            (lines.into_iter().collect::<Option<Vec<Item>>>(), currency)
        }
    };
    Priced::new(lines, currency).ok_or_else(|| OrderError::validation(total_too_large()))
}

/// The one currency of `currencies`, or the refusal naming them all.
fn one_currency<'a>(currencies: impl Iterator<Item = &'a str>) -> Result<String, OrderError> {
    let mut all: Vec<&str> = currencies.collect();
    all.sort_unstable();
    all.dedup();
    match all.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Ok("KRW".to_owned()),
        several => Err(OrderError::CurrencyMismatch(several.join(" and "))),
    }
}
