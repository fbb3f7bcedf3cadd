//! The product service's configuration: the shared service flags, cache lifetime and the
//! demo catalog switch.

use clap::{ArgAction, Parser};
use mall_http::config::{ServiceArgs, ServiceBase};

pub const DEFAULT_PORT: u16 = 8102;

#[derive(Parser, Debug)]
#[command(
    name = "product-service",
    version,
    about = "The catalog, stock and reservations."
)]
pub struct Cli {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// Seconds a cached product or list page, or stock, may live (writes invalidate at once
    /// anyway).
    #[arg(long, env = "CACHE_TTL_SECS", default_value_t = 60)]
    pub cache_ttl_secs: u64,

    /// Use the in-memory read cache (off only to measure what it saves: scripts/bench catalog).
    #[arg(long, env = "CACHE_ENABLED", action = ArgAction::Set, default_value_t = true)]
    pub cache_enabled: bool,

    /// Load the demo catalog when the catalog is empty (dev only).
    #[arg(long, env = "SEED_DEMO_CATALOG", action = ArgAction::Set, default_value_t = false)]
    pub seed_demo: bool,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base: ServiceBase,
    pub cache_ttl_secs: u64,
    pub cache_enabled: bool,
    pub seed_demo: bool,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        if self.cache_ttl_secs == 0 {
            return Err("CACHE_TTL_SECS must be positive".into());
        }
        Ok(Config {
            base: self
                .service
                .base("product", env!("CARGO_PKG_VERSION"), DEFAULT_PORT)?,
            cache_ttl_secs: self.cache_ttl_secs,
            cache_enabled: self.cache_enabled,
            seed_demo: self.seed_demo,
        })
    }
}
