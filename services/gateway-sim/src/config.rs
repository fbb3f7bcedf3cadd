//! The simulator's configuration: the shared service flags (it ignores `DATABASE_URL`,
//! `REDIS_URL` and `REDIS_PREFIX`: it keeps everything in memory) and how long a
//! `tok_timeout` charge holds its answer.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use mall_runtime::config::{RuntimeArgs, ServiceInfo};

/// `MALL_PORT_BASE + 9` (docs/runtime.md); the simulator has no green slot.
pub const DEFAULT_PORT: u16 = 8109;

#[derive(Parser, Debug)]
#[command(
    name = "gateway-sim",
    version,
    about = "Card gateway simulator: approves, declines or times out by card token."
)]
pub struct Cli {
    #[command(flatten)]
    pub service: RuntimeArgs,

    /// Seconds a `tok_timeout` charge waits before answering (its charge is recorded at
    /// once); far beyond any client's timeout.
    #[arg(long, env = "TIMEOUT_DELAY_SECS", default_value_t = 30)]
    pub timeout_delay_secs: u64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub info: ServiceInfo,
    pub listen: SocketAddr,
    pub grace: Duration,
    pub timeout_delay: Duration,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        Ok(Config {
            info: self.service.info("gateway-sim", env!("CARGO_PKG_VERSION")),
            listen: self.service.listen_or(DEFAULT_PORT),
            grace: self.service.grace(),
            timeout_delay: Duration::from_secs(self.timeout_delay_secs),
        })
    }
}

impl Config {
    /// Loopback port 0, a short grace period and the given `tok_timeout` delay.
    pub fn for_tests(timeout_delay: Duration) -> Self {
        Self {
            info: ServiceInfo {
                name: "gateway-sim".into(),
                color: "blue".into(),
                version: "test".into(),
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            grace: Duration::from_secs(1),
            timeout_delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_runtime_contract() {
        let cli = Cli::try_parse_from(["gateway-sim"]).expect("parses");
        let config = cli.into_config().expect("valid");
        assert_eq!(
            config.listen,
            SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))
        );
        assert_eq!(config.timeout_delay, Duration::from_secs(30));
        assert_eq!(config.info.served_by(), "gateway-sim-blue@0.1.0");
    }

    #[test]
    fn the_delay_is_configurable() {
        let cli =
            Cli::try_parse_from(["gateway-sim", "--timeout-delay-secs", "2"]).expect("parses");
        assert_eq!(
            cli.into_config().expect("valid").timeout_delay,
            Duration::from_secs(2)
        );
    }
}
