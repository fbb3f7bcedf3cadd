//! The order service's configuration: the shared service flags, where the other services
//! are (nginx's internal listener, or each callee's two slots and the switch's markers:
//! docs/runtime.md "Internal calls"), and the reconciliation timing.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use mall_contracts::Target;
use mall_http::config::{ServiceArgs, ServiceBase};

pub const DEFAULT_PORT: u16 = 8104;

#[derive(Parser, Debug)]
#[command(
    name = "order-service",
    version,
    about = "Orders and the checkout saga."
)]
pub struct Cli {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// The catalog (reservations): nginx's internal listener, or `BLUE_URL,GREEN_URL` of
    /// its two slots, called directly (needs SLOT_MARKERS).
    #[arg(long, env = "PRODUCT_URL", default_value = "http://127.0.0.1:8081")]
    pub product_url: String,

    /// The carts: one URL, or `BLUE_URL,GREEN_URL` (as PRODUCT_URL).
    #[arg(long, env = "CART_URL", default_value = "http://127.0.0.1:8081")]
    pub cart_url: String,

    /// The payment service: one URL, or `BLUE_URL,GREEN_URL` (as PRODUCT_URL).
    #[arg(long, env = "PAYMENT_URL", default_value = "http://127.0.0.1:8081")]
    pub payment_url: String,

    /// The user service (admin stats): one URL, or `BLUE_URL,GREEN_URL` (as PRODUCT_URL).
    #[arg(long, env = "USER_URL", default_value = "http://127.0.0.1:8081")]
    pub user_url: String,

    /// The directory where the blue/green switch writes `<part>.green` (nginx's
    /// `upstreams/`): which slot of a two-slot callee is live, read per call.
    #[arg(long, env = "SLOT_MARKERS")]
    pub slot_markers: Option<PathBuf>,

    /// Timeout of one call to another service, in milliseconds.
    #[arg(long, env = "CALL_TIMEOUT_MS", default_value_t = 5000)]
    pub call_timeout_ms: u64,

    /// Seconds between reconciliation rounds (one also runs at start-up).
    #[arg(long, env = "RECONCILE_EVERY_SECS", default_value_t = 5)]
    pub reconcile_every_secs: u64,

    /// A pending order untouched this long is settled by reconciliation; longer than any
    /// checkout request can still be working on it (two calls of CALL_TIMEOUT_MS).
    #[arg(long, env = "RECONCILE_AFTER_SECS", default_value_t = 15)]
    pub reconcile_after_secs: u64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base: ServiceBase,
    pub product: Target,
    pub cart: Target,
    pub payment: Target,
    pub user: Target,
    pub call_timeout: Duration,
    pub reconcile_every: Duration,
    pub reconcile_after: Duration,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        let target =
            |part: &str, spec: &str| Target::parse(part, spec, self.slot_markers.as_deref());
        let (product, cart) = (
            target("product", &self.product_url)?,
            target("cart", &self.cart_url)?,
        );
        let (payment, user) = (
            target("payment", &self.payment_url)?,
            target("user", &self.user_url)?,
        );
        if self.call_timeout_ms == 0 || self.reconcile_every_secs == 0 {
            return Err("CALL_TIMEOUT_MS and RECONCILE_EVERY_SECS must be positive".into());
        }
        if self.reconcile_after_secs * 1000 < 2 * self.call_timeout_ms {
            return Err("RECONCILE_AFTER_SECS must cover two calls of CALL_TIMEOUT_MS".into());
        }
        Ok(Config {
            base: self
                .service
                .base("order", env!("CARGO_PKG_VERSION"), DEFAULT_PORT)?,
            product,
            cart,
            payment,
            user,
            call_timeout: Duration::from_millis(self.call_timeout_ms),
            reconcile_every: Duration::from_secs(self.reconcile_every_secs),
            reconcile_after: Duration::from_secs(self.reconcile_after_secs),
        })
    }
}
