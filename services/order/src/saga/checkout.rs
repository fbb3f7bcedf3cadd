//! A checkout request, from the route to the order it answers, read top to bottom:
//!
//! 1. what to order: the body's items (live products) or the cart's lines, in one currency;
//! 2. claim the idempotency key: the pending order's insert (`order_create`) either creates
//!    the order or meets the key, which makes this request a replay;
//! 3. run the saga ([`super::run`]): reserve, charge, settle;
//! 4. the order as it is now.
//!
//! A replay (the same key with the same request) answers the order the key names, waiting
//! a little for one still being worked on; the same key with another request is refused.
//! A request that cannot become an order (empty cart, bad items, a service down) is a
//! replay too when its key already names an order: the order decides the answer, as if the
//! key had been looked up first (a retry of a cart checkout whose cart that order emptied
//! replays the order, not `cart_empty`). A new order costs no lookup: the key is told apart
//! by the duplicate key at the insert.

use std::time::Duration;

use secrecy::SecretString;

use super::Origin;
use crate::domain::{check_items, check_lines, IdempotencyKey, ItemQty, OrderBody};
use crate::error::OrderError;
use crate::state::Status;
use crate::storage::{self, Order};
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
    let (items, currency) = match order_items(state, request.user_id, request.body).await {
        Ok(found) => found,
        Err(refused) => return replay(state, &request, &hash).await?.ok_or(refused),
    };
    // 2. Claim the key.
    let created = storage::insert(
        &state.pool,
        request.user_id,
        request.key.as_str(),
        &hash,
        &currency,
        from_cart,
    )
    .await?;
    let Some(order_id) = created else {
        // A retry, or a concurrent request with the same key that created it first.
        return replay(state, &request, &hash)
            .await?
            .ok_or_else(|| anyhow::anyhow!("order vanished after a duplicate key").into());
    };
    tracing::info!(order_id, items = items.len(), from_cart, "order created");
    // 3. Run the saga.
    let origin = Origin {
        user_id: request.user_id,
        from_cart,
    };
    let card_token: &SecretString = &request.body.payment.card_token;
    super::run(state, order_id, origin, &items, card_token).await?;
    // 4. The order as it is now.
    current(state, order_id).await
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

/// The lines to order, checked, and their one currency: the body's `items`, which must
/// name live products, or the cart's lines. The cart service prices the cart through the
/// catalog's batch lookup and leaves out the lines of products gone from it (cart's
/// `routes::priced`), so its lines name live products already and are not looked up a
/// second time. Items in more than one currency are refused before anything is reserved
/// (a currency changed meanwhile is caught again after the reservation: saga/mod.rs).
async fn order_items(
    state: &State,
    user_id: u64,
    body: &OrderBody,
) -> Result<(Vec<ItemQty>, String), OrderError> {
    let Some(sent) = &body.items else {
        let cart = state
            .clients
            .cart
            .cart(user_id)
            .await
            .map_err(OrderError::Unavailable)?;
        let items: Vec<ItemQty> = cart
            .items
            .iter()
            .map(|l| ItemQty {
                product_id: l.product_id,
                quantity: l.quantity,
            })
            .collect();
        if items.is_empty() {
            return Err(OrderError::CartEmpty);
        }
        check_lines(&items).map_err(OrderError::validation)?;
        let currency = one_currency(cart.items.iter().map(|l| l.currency.as_str()))?;
        return Ok((items, currency));
    };
    let items = check_items(sent).map_err(OrderError::validation)?;
    let ids: Vec<u64> = items.iter().map(|i| i.product_id).collect();
    let live = state
        .clients
        .product
        .products(&ids)
        .await
        .map_err(OrderError::Unavailable)?;
    if let Some(missing) = ids.iter().find(|pid| !live.iter().any(|p| p.id == **pid)) {
        return Err(OrderError::not_found(format!("no such product: {missing}")));
    }
    let currency = one_currency(live.iter().map(|p| p.currency.as_str()))?;
    Ok((items, currency))
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
