//! HTTP only: parse, call, map. The shopper's cart routes and the internal ones the order
//! service calls (nginx never exposes `/internal/`).

mod cart;
mod internal;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::catalog::Catalog;
use crate::error::CartError;
use crate::pricing::{price, CartView};
use crate::storage::Line;
use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    cart::routes(state.clone())
        .or(internal::routes(state))
        .unify()
        .boxed()
}

/// The cart with current catalog names, prices and currencies; lines of products that
/// are gone from the catalog are left out (without error).
pub async fn priced(catalog: &Catalog, lines: &[Line]) -> Result<CartView, CartError> {
    let ids: Vec<u64> = lines.iter().map(|l| l.product_id).collect();
    let products = catalog
        .prices(&ids)
        .await
        .map_err(CartError::CatalogUnavailable)?;
    price(lines, &products).map_err(CartError::validation)
}
