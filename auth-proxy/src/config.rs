//! Configuration: flags with environment fallbacks (`docs/runtime.md`, `docs/auth-proxy.md`)
//! parsed into [`Args`], validated into the plain [`Config`] that [`crate::run`] takes.
//! Tests build a [`Config`] directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mall_runtime::config::{RuntimeArgs, ServiceInfo};

/// `MALL_PORT_BASE + 0` (docs/runtime.md): nginx's `auth_request` upstream.
pub const DEFAULT_PORT: u16 = 8100;

/// The auth-proxy's command line.
#[derive(clap::Parser, Clone, Debug)]
#[command(
    name = "auth-proxy",
    version,
    about = "nginx auth_request sidecar of the mall"
)]
pub struct Args {
    /// The flags every mall process shares: listen (default 127.0.0.1:8100), slot,
    /// version, shutdown grace.
    #[command(flatten)]
    pub runtime: RuntimeArgs,

    /// Comma-separated JWKS URLs; the keys of every URL that answers are merged.
    #[arg(
        long,
        env = "AUTH_JWKS_URLS",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:8101/.well-known/jwks.json,http://127.0.0.1:8201/.well-known/jwks.json"
    )]
    pub jwks_urls: Vec<String>,

    /// Comma-separated static PEM public key files (`<kid>.pem`), used instead of JWKS.
    #[arg(long, env = "AUTH_KEY_FILES", value_delimiter = ',')]
    pub key_files: Vec<PathBuf>,

    /// Required `iss`.
    #[arg(long, env = "AUTH_ISSUER", default_value = "mall")]
    pub issuer: String,

    /// Required `aud` (the token's `aud` is this string or an array containing it).
    #[arg(long, env = "AUTH_AUDIENCE", default_value = "mall-api")]
    pub audience: String,

    /// Clock leeway in seconds for `exp`, `nbf` and `iat` (0–300).
    #[arg(long, env = "AUTH_LEEWAY_SECS", default_value_t = 5)]
    pub leeway_secs: u64,

    /// Longest accepted token lifetime `exp - iat` in seconds (the issuer's limit).
    #[arg(long, env = "AUTH_MAX_TOKEN_LIFETIME_SECS", default_value_t = 900)]
    pub max_token_lifetime_secs: u64,

    /// The route policy file (reloaded on SIGHUP).
    #[arg(
        long,
        env = "AUTH_POLICY_FILE",
        default_value = "auth-proxy/policy.toml"
    )]
    pub policy_file: PathBuf,

    /// Redis holding the revocation sets and channel.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379/0")]
    pub redis_url: String,

    /// Prefix of every Redis key and channel.
    #[arg(long, env = "REDIS_PREFIX", default_value = "mall:")]
    pub redis_prefix: String,

    /// Seconds between background JWKS refreshes.
    #[arg(long, env = "AUTH_JWKS_REFRESH_SECS", default_value_t = 60)]
    pub jwks_refresh_secs: u64,

    /// Timeout of one JWKS fetch, milliseconds.
    #[arg(long, env = "AUTH_JWKS_TIMEOUT_MS", default_value_t = 2000)]
    pub jwks_timeout_ms: u64,

    /// Minimum seconds between refetches triggered by an unknown `kid`.
    #[arg(long, env = "AUTH_UNKNOWN_KID_REFETCH_SECS", default_value_t = 5)]
    pub unknown_kid_refetch_secs: u64,

    /// Seconds between full resyncs of the revocation denylist from Redis.
    #[arg(long, env = "AUTH_REVOCATION_RESYNC_SECS", default_value_t = 30)]
    pub revocation_resync_secs: u64,

    /// Longest accepted token in bytes; longer ones are refused before any parsing.
    #[arg(long, env = "AUTH_MAX_TOKEN_BYTES", default_value_t = 8192)]
    pub max_token_bytes: usize,

    /// Verified tokens kept in memory.
    #[arg(long, env = "AUTH_CACHE_CAPACITY", default_value_t = 10_000)]
    pub cache_capacity: u64,
}

/// Everything [`crate::run`] needs, already validated.
#[derive(Clone, Debug)]
pub struct Config {
    pub info: ServiceInfo,
    /// Used by `main` to bind; `run` takes a bound listener.
    pub listen: SocketAddr,
    pub jwks_urls: Vec<String>,
    /// When non-empty, these keys are used and `jwks_urls` is ignored.
    pub key_files: Vec<PathBuf>,
    pub issuer: String,
    pub audience: String,
    pub leeway_secs: u64,
    pub max_token_lifetime_secs: u64,
    pub policy_file: PathBuf,
    pub redis_url: String,
    pub redis_prefix: String,
    pub shutdown_grace: Duration,
    pub jwks_refresh: Duration,
    pub jwks_timeout: Duration,
    pub unknown_kid_refetch: Duration,
    pub revocation_resync: Duration,
    pub max_token_bytes: usize,
    pub cache_capacity: u64,
    /// Reload the policy (and static key files) on SIGHUP. `main` turns it on; tests
    /// that run several proxies in one process leave it off and call `App::reload`.
    pub reload_on_sighup: bool,
}

// === impl Args ===

impl Args {
    /// Validates the flags; the error is one line for `exit_bad_config`.
    pub fn into_config(self) -> Result<Config, String> {
        let info = self.runtime.info("auth-proxy", env!("CARGO_PKG_VERSION"));
        let jwks_urls: Vec<String> = self
            .jwks_urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        let key_files: Vec<PathBuf> = self
            .key_files
            .into_iter()
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if key_files.is_empty() && jwks_urls.is_empty() {
            return Err(
                "AUTH_JWKS_URLS or AUTH_KEY_FILES must name at least one key source".into(),
            );
        }
        for u in &jwks_urls {
            match reqwest::Url::parse(u) {
                Ok(url) if url.scheme() == "http" || url.scheme() == "https" => {}
                _ => return Err(format!("AUTH_JWKS_URLS: {u:?} is not an http(s) URL")),
            }
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err("AUTH_ISSUER and AUTH_AUDIENCE must not be empty".into());
        }
        if self.leeway_secs > 300 {
            return Err(format!(
                "AUTH_LEEWAY_SECS must be 0..=300, not {}",
                self.leeway_secs
            ));
        }
        if !(1..=86_400).contains(&self.max_token_lifetime_secs) {
            return Err("AUTH_MAX_TOKEN_LIFETIME_SECS must be 1..=86400".into());
        }
        if !(256..=65_536).contains(&self.max_token_bytes) {
            return Err("AUTH_MAX_TOKEN_BYTES must be 256..=65536".into());
        }
        if self.cache_capacity == 0 {
            return Err("AUTH_CACHE_CAPACITY must be at least 1".into());
        }
        for (name, v) in [
            ("AUTH_JWKS_REFRESH_SECS", self.jwks_refresh_secs),
            ("AUTH_JWKS_TIMEOUT_MS", self.jwks_timeout_ms),
            ("AUTH_REVOCATION_RESYNC_SECS", self.revocation_resync_secs),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if let Err(e) = redis::Client::open(self.redis_url.as_str()) {
            return Err(format!("REDIS_URL is not valid: {e}"));
        }
        Ok(Config {
            info,
            listen: self.runtime.listen_or(DEFAULT_PORT),
            jwks_urls,
            key_files,
            issuer: self.issuer,
            audience: self.audience,
            leeway_secs: self.leeway_secs,
            max_token_lifetime_secs: self.max_token_lifetime_secs,
            policy_file: self.policy_file,
            redis_url: self.redis_url,
            redis_prefix: self.redis_prefix,
            shutdown_grace: self.runtime.grace(),
            jwks_refresh: Duration::from_secs(self.jwks_refresh_secs),
            jwks_timeout: Duration::from_millis(self.jwks_timeout_ms),
            unknown_kid_refetch: Duration::from_secs(self.unknown_kid_refetch_secs),
            revocation_resync: Duration::from_secs(self.revocation_resync_secs),
            max_token_bytes: self.max_token_bytes,
            cache_capacity: self.cache_capacity,
            reload_on_sighup: true,
        })
    }
}

// === impl Config ===

impl Config {
    /// The documented local defaults, without reading the environment; tests start from
    /// this and change fields.
    pub fn local_defaults() -> Self {
        Config {
            info: ServiceInfo {
                name: "auth-proxy".into(),
                color: "blue".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 8100)),
            jwks_urls: vec![
                "http://127.0.0.1:8101/.well-known/jwks.json".into(),
                "http://127.0.0.1:8201/.well-known/jwks.json".into(),
            ],
            key_files: Vec::new(),
            issuer: "mall".into(),
            audience: "mall-api".into(),
            leeway_secs: 5,
            max_token_lifetime_secs: 900,
            policy_file: PathBuf::from("auth-proxy/policy.toml"),
            redis_url: "redis://127.0.0.1:6379/0".into(),
            redis_prefix: "mall:".into(),
            shutdown_grace: Duration::from_secs(10),
            jwks_refresh: Duration::from_secs(60),
            jwks_timeout: Duration::from_millis(2000),
            unknown_kid_refetch: Duration::from_secs(5),
            revocation_resync: Duration::from_secs(30),
            max_token_bytes: 8192,
            cache_capacity: 10_000,
            reload_on_sighup: false,
        }
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
