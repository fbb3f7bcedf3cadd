//! The shopper mix: which request a virtual shopper sends next, and with which user.
//!
//! The weights follow the reference shops' load generators (Online Boutique's locustfile):
//! browse 10, product detail 10, search 3, view cart 3, add to cart 2, checkout 1.

mod route;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use http::{HeaderValue, Method, StatusCode};

use crate::conn::Call;

pub use route::{Route, Weights};

/// A signed-in shopper. A shopper does one thing at a time (a real one waits for the page):
/// `busy` is held while a request that reads or changes the shopper's cart is in flight,
/// so what this generator knows of the cart (`cart_lines`) matches the server's, and a
/// checkout never races an add to the same cart.
pub struct Shopper {
    pub auth: HeaderValue,
    pub cart_lines: AtomicU32,
    pub busy: AtomicBool,
}

impl Shopper {
    pub fn new(token: &str) -> anyhow::Result<Self> {
        Ok(Shopper {
            auth: HeaderValue::from_str(&format!("Bearer {token}"))?,
            cart_lines: AtomicU32::new(0),
            busy: AtomicBool::new(false),
        })
    }

    fn try_take(&self) -> bool {
        self.busy
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

/// What the mix draws from: the catalog as the setup found it, and the shoppers.
pub struct World {
    pub weights: Weights,
    pub product_ids: Vec<u64>,
    pub browse_paths: Vec<String>,
    pub search_paths: Vec<String>,
    pub shoppers: Vec<Shopper>,
    pub card_token: String,
}

/// A request of the mix and what to do with the answer.
pub struct Planned {
    pub route: Route,
    pub call: Call,
    /// The shopper taken for this request (released by `settle`).
    pub shopper: Option<usize>,
    /// A checkout of the shopper's cart (true) or of explicit items (false).
    pub from_cart: bool,
}

fn any<'a, T>(rng: &mut fastrand::Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        items.get(rng.usize(0..items.len()))
    }
}

/// Tries this many random shoppers for a free one before giving up.
const TRIES: usize = 32;

/// A shopper with this many lines added since the last checkout adds no more (the cart
/// service caps the lines of a cart; a real shopper checks out long before).
pub const FULL_CART: u32 = 10;

/// Which shopper a request needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Any,
    /// Room for another line.
    Room,
    /// Something in the cart.
    Filled,
}

impl World {
    /// A free shopper (taken), preferring one whose cart holds something when `filled`.
    fn take_shopper(&self, rng: &mut fastrand::Rng, want: Want) -> Option<usize> {
        for _ in 0..TRIES {
            let i = rng.usize(0..self.shoppers.len().max(1));
            let s = self.shoppers.get(i)?;
            let lines = s.cart_lines.load(Ordering::Relaxed);
            let fits = match want {
                Want::Any => true,
                Want::Room => lines < FULL_CART,
                Want::Filled => lines > 0,
            };
            if !fits {
                continue;
            }
            if s.try_take() {
                return Some(i);
            }
        }
        None
    }

    /// The taken shopper's token; when every try found a busy shopper (only with fewer
    /// shoppers than requests in flight), any shopper's, without taking it.
    fn auth(&self, shopper: Option<usize>, rng: &mut fastrand::Rng) -> Option<HeaderValue> {
        let i = shopper.unwrap_or_else(|| rng.usize(0..self.shoppers.len().max(1)));
        self.shoppers.get(i).map(|s| s.auth.clone())
    }

    pub fn plan(&self, rng: &mut fastrand::Rng) -> Planned {
        let route = self.weights.pick(rng);
        let product = any(rng, &self.product_ids).copied().unwrap_or(1);
        let mut shopper = None;
        let mut from_cart = false;
        let call = match route {
            Route::Browse => Call::get(
                any(rng, &self.browse_paths).cloned().unwrap_or_default(),
                None,
            ),
            Route::Detail => Call::get(format!("/api/products/{product}"), None),
            Route::Search => Call::get(
                any(rng, &self.search_paths).cloned().unwrap_or_default(),
                None,
            ),
            Route::ViewCart => {
                shopper = self.take_shopper(rng, Want::Any);
                Call::get("/api/cart".into(), self.auth(shopper, rng))
            }
            Route::AddToCart => {
                shopper = self.take_shopper(rng, Want::Room);
                Call::json(
                    Method::PUT,
                    format!("/api/cart/items/{product}"),
                    self.auth(shopper, rng),
                    format!("{{\"quantity\":{}}}", rng.u32(1..=3)),
                )
            }
            Route::Checkout => {
                // The shopper's cart when one with a filled cart is free, otherwise one item
                // named in the request (the API's `items`).
                let payment = format!("\"payment\":{{\"card_token\":\"{}\"}}", self.card_token);
                shopper = self.take_shopper(rng, Want::Filled);
                let body = if shopper.is_some() {
                    from_cart = true;
                    format!("{{{payment}}}")
                } else {
                    shopper = self.take_shopper(rng, Want::Any);
                    format!("{{\"items\":[{{\"product_id\":{product},\"quantity\":1}}],{payment}}}")
                };
                let mut call = Call::json(
                    Method::POST,
                    "/api/orders".into(),
                    self.auth(shopper, rng),
                    body,
                );
                call.idempotency_key = Some(uuid::Uuid::new_v4().to_string());
                call
            }
        };
        Planned {
            route,
            call,
            shopper,
            from_cart,
        }
    }

    /// Updates what we know of the shopper's cart after an answer, and frees the shopper.
    pub fn settle(&self, planned: &Planned, status: Option<StatusCode>) {
        let Some(s) = planned.shopper.and_then(|i| self.shoppers.get(i)) else {
            return;
        };
        match planned.route {
            Route::AddToCart if status == Some(StatusCode::OK) => {
                s.cart_lines.fetch_add(1, Ordering::Relaxed);
            }
            Route::Checkout if planned.from_cart && status == Some(StatusCode::CREATED) => {
                s.cart_lines.store(0, Ordering::Relaxed);
            }
            _ => {}
        }
        s.busy.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests;
