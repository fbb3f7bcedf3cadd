//! The cart service's configuration: the shared service flags, where the catalog is, cache
//! lifetime and cart size.

use clap::Parser;
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

    /// Base URL of the product service (through nginx's internal listener, so a blue/green
    /// switch of the catalog moves this traffic too).
    #[arg(long, env = "PRODUCT_URL", default_value = "http://127.0.0.1:8081")]
    pub product_url: String,

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
    pub product_url: String,
    pub cache_ttl_secs: u64,
    pub max_lines: u32,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        if !(self.product_url.starts_with("http://") || self.product_url.starts_with("https://")) {
            return Err("PRODUCT_URL must be an http(s) URL".into());
        }
        if self.cache_ttl_secs == 0 || self.max_lines == 0 {
            return Err("CACHE_TTL_SECS and CART_MAX_LINES must be positive".into());
        }
        Ok(Config {
            base: self
                .service
                .base("cart", env!("CARGO_PKG_VERSION"), DEFAULT_PORT)?,
            product_url: self.product_url,
            cache_ttl_secs: self.cache_ttl_secs,
            max_lines: self.max_lines,
        })
    }
}
