//! The routes of the mix (what each asks of the API and which answer counts as success)
//! and their relative weights (`--mix`).

use http::StatusCode;
use serde::Serialize;

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
