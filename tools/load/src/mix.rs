//! The shopper mix: which request a virtual shopper sends next, and with which user.
//!
//! The weights follow the reference shops' load generators (Online Boutique's locustfile):
//! browse 10, product detail 10, search 3, view cart 3, add to cart 2, checkout 1.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use http::{HeaderValue, Method, StatusCode};
use serde::Serialize;

use crate::conn::Call;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Browse,
    Detail,
    Search,
    ViewCart,
    AddToCart,
    Checkout,
}

impl Route {
    pub const ALL: [Route; 6] = [
        Route::Browse,
        Route::Detail,
        Route::Search,
        Route::ViewCart,
        Route::AddToCart,
        Route::Checkout,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Route::Browse => "browse",
            Route::Detail => "detail",
            Route::Search => "search",
            Route::ViewCart => "view_cart",
            Route::AddToCart => "add_to_cart",
            Route::Checkout => "checkout",
        }
    }

    /// What the route means in the API.
    pub fn request(self) -> &'static str {
        match self {
            Route::Browse => "GET /api/products?category|sort|page",
            Route::Detail => "GET /api/products/{id}",
            Route::Search => "GET /api/products?q=",
            Route::ViewCart => "GET /api/cart",
            Route::AddToCart => "PUT /api/cart/items/{id}",
            Route::Checkout => "POST /api/orders",
        }
    }

    /// The answer that counts as success; any other status is an error of the run.
    pub fn expected(self) -> StatusCode {
        match self {
            Route::Checkout => StatusCode::CREATED,
            _ => StatusCode::OK,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Relative weights of the routes, in `Route::ALL` order.
#[derive(Debug, Clone, Serialize)]
pub struct Weights(pub [u32; 6]);

impl Default for Weights {
    fn default() -> Self {
        Weights([10, 10, 3, 3, 2, 1])
    }
}

impl std::str::FromStr for Weights {
    type Err = String;

    /// `browse=10,detail=10,search=3,view_cart=3,add_to_cart=2,checkout=1` (names not
    /// given keep their default weight; 0 leaves a route out).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut w = Weights::default();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected route=weight"))?;
            let route = Route::ALL
                .iter()
                .find(|r| r.name() == name.trim())
                .ok_or_else(|| format!("unknown route {name:?}"))?;
            w.0[route.index()] = value
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the weight must be a whole number"))?;
        }
        if w.0.iter().all(|&x| x == 0) {
            return Err("at least one route needs a weight above 0".into());
        }
        Ok(w)
    }
}

impl Weights {
    pub fn pick(&self, rng: &mut fastrand::Rng) -> Route {
        let total: u32 = self.0.iter().sum();
        let mut n = rng.u32(0..total.max(1));
        for route in Route::ALL {
            let w = self.0[route.index()];
            if n < w {
                return route;
            }
            n -= w;
        }
        Route::Browse
    }
}

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
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_reference_mix() {
        let w = Weights::default();
        let mut rng = fastrand::Rng::with_seed(7);
        let mut counts = [0u32; 6];
        let n = 290_000;
        for _ in 0..n {
            counts[w.pick(&mut rng).index()] += 1;
        }
        // 10/29 of 290,000 is 100,000; each count within 2 % of its share.
        for (i, &weight) in w.0.iter().enumerate() {
            let expected = f64::from(weight) * f64::from(n) / 29.0;
            let got = f64::from(counts[i]);
            assert!(
                (got - expected).abs() < expected * 0.02,
                "route {i}: {got} vs {expected}"
            );
        }
    }

    #[test]
    fn weights_parse_and_reject() {
        let w: Weights = "checkout=0,browse=5".parse().expect("parses");
        assert_eq!(w.0, [5, 10, 3, 3, 2, 0]);
        assert!("nope=1".parse::<Weights>().is_err());
        assert!("browse=x".parse::<Weights>().is_err());
        let zero = "browse=0,detail=0,search=0,view_cart=0,add_to_cart=0,checkout=0";
        assert!(zero.parse::<Weights>().is_err());
        let only: Weights = "browse=0,detail=0,search=0,view_cart=0,add_to_cart=0"
            .parse()
            .expect("parses");
        let mut rng = fastrand::Rng::with_seed(1);
        assert!((0..1000).all(|_| only.pick(&mut rng) == Route::Checkout));
    }

    fn world(shoppers: usize) -> World {
        World {
            weights: "browse=0,detail=0,search=0,view_cart=0,add_to_cart=0"
                .parse()
                .expect("weights"),
            product_ids: vec![3],
            browse_paths: vec![],
            search_paths: vec![],
            shoppers: (0..shoppers)
                .map(|i| Shopper::new(&format!("t{i}")).expect("shopper"))
                .collect(),
            card_token: "tok_ok".into(),
        }
    }

    #[test]
    fn checkout_takes_a_filled_cart_once_and_falls_back_to_items() {
        let w = world(1);
        let mut rng = fastrand::Rng::with_seed(3);
        // Empty cart: explicit items.
        let p = w.plan(&mut rng);
        assert!(!p.from_cart);
        w.settle(&p, Some(StatusCode::CREATED));
        let body = p.call.body.clone().expect("body");
        assert!(std::str::from_utf8(&body)
            .expect("utf8")
            .contains("\"items\""));
        // A filled cart: ordered from the cart, and not twice at the same time.
        w.shoppers[0].cart_lines.store(2, Ordering::Relaxed);
        let first = w.plan(&mut rng);
        assert!(first.from_cart);
        let second = w.plan(&mut rng);
        assert!(!second.from_cart, "one request per shopper at a time");
        assert!(second.shopper.is_none(), "the only shopper is busy");
        assert!(second.call.auth.is_some(), "still signed in");
        w.settle(&first, Some(StatusCode::CREATED));
        assert_eq!(w.shoppers[0].cart_lines.load(Ordering::Relaxed), 0);
        assert!(!w.shoppers[0].busy.load(Ordering::Relaxed));
        w.settle(&second, Some(StatusCode::CREATED));
        // A full cart gets no more lines.
        let adds = World {
            weights: "browse=0,detail=0,search=0,view_cart=0,checkout=0"
                .parse()
                .expect("weights"),
            ..world(1)
        };
        adds.shoppers[0]
            .cart_lines
            .store(FULL_CART, Ordering::Relaxed);
        let add = adds.plan(&mut rng);
        assert_eq!(add.route, Route::AddToCart);
        assert!(add.shopper.is_none(), "a full cart is not taken for an add");
        adds.shoppers[0]
            .cart_lines
            .store(FULL_CART - 1, Ordering::Relaxed);
        let add = adds.plan(&mut rng);
        assert_eq!(add.shopper, Some(0));
        adds.settle(&add, Some(StatusCode::OK));
        assert_eq!(
            adds.shoppers[0].cart_lines.load(Ordering::Relaxed),
            FULL_CART
        );
        // Keys are unique per request.
        assert_ne!(first.call.idempotency_key, second.call.idempotency_key);
    }
}
