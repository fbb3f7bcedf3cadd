//! HTTP only: parse, call, map. The shopper's cart routes and the internal ones the order
//! service calls (nginx never exposes `/internal/`).

mod cart;
mod internal;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

use crate::catalog::{Catalog, CatalogProduct};
use crate::error::CartError;
use crate::storage::Line;
use crate::State;

pub fn routes(state: Arc<State>) -> BoxedFilter<(Response,)> {
    cart::routes(state.clone())
        .or(internal::routes(state))
        .unify()
        .boxed()
}

#[derive(Debug, Serialize)]
pub struct CartLine {
    pub product_id: u64,
    pub name: String,
    pub price: i64,
    pub quantity: u32,
    pub line_total: i64,
}

#[derive(Debug, Serialize)]
pub struct CartView {
    pub items: Vec<CartLine>,
    pub total: i64,
}

/// The cart with current catalog names and prices; lines of products that are gone from
/// the catalog are left out (without error).
pub async fn priced(catalog: &Catalog, lines: &[Line]) -> Result<CartView, CartError> {
    let ids: Vec<u64> = lines.iter().map(|l| l.product_id).collect();
    let products = catalog
        .products(&ids)
        .await
        .map_err(CartError::CatalogUnavailable)?;
    Ok(price(lines, &products))
}

/// `lines` priced from `products` (live products by id); lines of products not among them
/// are left out.
pub fn price(lines: &[Line], products: &HashMap<u64, CatalogProduct>) -> CartView {
    let items: Vec<CartLine> = lines
        .iter()
        .filter_map(|l| {
            products.get(&l.product_id).map(|p| CartLine {
                product_id: p.id,
                name: p.name.clone(),
                price: p.price,
                quantity: l.quantity,
                line_total: p.price.saturating_mul(i64::from(l.quantity)),
            })
        })
        .collect();
    let total = items
        .iter()
        .map(|i| i.line_total)
        .fold(0i64, i64::saturating_add);
    CartView { items, total }
}
