//! The payment service's configuration: the shared service flags, where the card gateway
//! is, how long to wait for it, and when a payment the gateway never saw is settled as
//! declined.

use std::time::Duration;

use clap::Parser;
use mall_http::config::{ServiceArgs, ServiceBase};

pub const DEFAULT_PORT: u16 = 8105;

#[derive(Parser, Debug)]
#[command(
    name = "payment-service",
    version,
    about = "Payments per order through the card gateway."
)]
pub struct Cli {
    #[command(flatten)]
    pub service: ServiceArgs,

    /// Base URL of the card gateway (called directly: it is outside the mall).
    #[arg(long, env = "GATEWAY_URL", default_value = "http://127.0.0.1:8109")]
    pub gateway_url: String,

    /// Milliseconds to wait for the gateway's answer; after that the payment stays
    /// `pending` and reconciliation settles it.
    #[arg(long, env = "GATEWAY_TIMEOUT_MS", default_value_t = 3000)]
    pub gateway_timeout_ms: u64,

    /// Seconds after its last charge attempt a `pending` payment the gateway has no charge
    /// for is settled as `declined` (never charged). Must exceed the gateway timeout.
    #[arg(long, env = "SETTLE_UNKNOWN_AFTER_SECS", default_value_t = 20)]
    pub settle_unknown_after_secs: u64,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub base: ServiceBase,
    pub gateway_url: String,
    pub gateway_timeout: Duration,
    pub settle_unknown_after: Duration,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        let config = Config {
            base: self
                .service
                .base("payment", env!("CARGO_PKG_VERSION"), DEFAULT_PORT)?,
            gateway_url: self.gateway_url,
            gateway_timeout: Duration::from_millis(self.gateway_timeout_ms),
            settle_unknown_after: Duration::from_secs(self.settle_unknown_after_secs),
        };
        config.validate()?;
        Ok(config)
    }
}

impl Config {
    /// The rules `into_config` applies (tests building a `Config` may call it too).
    pub fn validate(&self) -> Result<(), String> {
        if !(self.gateway_url.starts_with("http://") || self.gateway_url.starts_with("https://")) {
            return Err("GATEWAY_URL must be an http(s) URL".into());
        }
        if self.gateway_timeout.is_zero() {
            return Err("GATEWAY_TIMEOUT_MS must be positive".into());
        }
        // A charge request still in flight must never be taken for one the gateway never
        // saw: settling waits longer than any attempt can take.
        if self.settle_unknown_after <= self.gateway_timeout {
            return Err("SETTLE_UNKNOWN_AFTER_SECS must exceed GATEWAY_TIMEOUT_MS".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut all = vec!["payment-service"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all)
            .map_err(|e| e.to_string())?
            .into_config()
    }

    #[test]
    fn defaults_follow_the_runtime_contract() {
        let c = parse(&[]).expect("defaults are valid");
        assert_eq!(c.base.listen.port(), DEFAULT_PORT);
        assert_eq!(c.gateway_url, "http://127.0.0.1:8109");
        assert_eq!(c.gateway_timeout, Duration::from_millis(3000));
        assert_eq!(c.settle_unknown_after, Duration::from_secs(20));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(parse(&["--gateway-url", "ftp://x"]).is_err());
        assert!(parse(&["--gateway-timeout-ms", "0"]).is_err());
        assert!(parse(&[
            "--gateway-timeout-ms",
            "5000",
            "--settle-unknown-after-secs",
            "5"
        ])
        .is_err());
        assert!(parse(&[
            "--gateway-timeout-ms",
            "4000",
            "--settle-unknown-after-secs",
            "5"
        ])
        .is_ok());
    }
}
