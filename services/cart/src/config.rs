//! The cart service's configuration: the shared service flags, where the catalog is, cache
//! lifetime and cart size.

use std::path::PathBuf;

use clap::Parser;
use mall_contracts::Target;
use mall_http::config::{ServiceArgs, ServiceBase};

pub const DEFAULT_PORT: u16 = 8103;

#[derive(Parser, Debug)]
#[command(
    name = "cart-service",
    version,
    about = "Shopping carts with current catalog prices."
)]
pub struct Cli {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// Base URL of the product service: nginx's internal listener, or `BLUE_URL,GREEN_URL`
    /// of its two slots, called directly (needs SLOT_MARKERS); either way a blue/green
    /// switch of the catalog moves this traffic too (docs/runtime.md "Internal calls").
    #[arg(long, env = "PRODUCT_URL", default_value = "http://127.0.0.1:8081")]
    pub product_url: String,

    /// The directory where the blue/green switch writes `<part>.green` (nginx's
    /// `upstreams/`): which product slot is live, read per call.
    #[arg(long, env = "SLOT_MARKERS")]
    pub slot_markers: Option<PathBuf>,

    /// Seconds a cached cart may live (writes invalidate at once anyway).
    #[arg(long, env = "CACHE_TTL_SECS", default_value_t = 300)]
    pub cache_ttl_secs: u64,

    /// Distinct products a cart may hold.
    #[arg(long, env = "CART_MAX_LINES", default_value_t = 50)]
    pub max_lines: u32,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base: ServiceBase,
    pub product: Target,
    pub cache_ttl_secs: u64,
    pub max_lines: u32,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        let product = Target::parse("product", &self.product_url, self.slot_markers.as_deref())?;
        if self.cache_ttl_secs == 0 || self.max_lines == 0 {
            return Err("CACHE_TTL_SECS and CART_MAX_LINES must be positive".into());
        }
        Ok(Config {
            base: self
                .service
                .base("cart", env!("CARGO_PKG_VERSION"), DEFAULT_PORT)?,
            product,
            cache_ttl_secs: self.cache_ttl_secs,
            max_lines: self.max_lines,
        })
    }
}
