//! The user service's configuration: the shared service flags plus signing keys, token
//! lifetimes, the login limit and the bootstrap admin. `docs/runtime.md` lists them all.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand};
use mall_http::config::{ServiceArgs, ServiceBase};
use secrecy::SecretString;

use crate::domain::Email;

/// The blue slot's local port (docs/runtime.md).
pub const DEFAULT_PORT: u16 = 8101;
/// Access tokens never live longer than this (API.md).
pub const MAX_ACCESS_TTL_SECS: u64 = 900;

#[derive(Parser, Debug)]
#[command(
    name = "user-service",
    version,
    about = "Accounts, passwords, access and refresh tokens, JWKS."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub service: ServiceArgs,

    /// Directory of Ed25519 PKCS#8 PEM signing keys named `<kid>.pem`; the newest signs.
    #[arg(
        long,
        env = "JWT_KEYS_DIR",
        default_value = "var/keys/user",
        global = true
    )]
    pub keys_dir: PathBuf,

    /// Create a first signing key when the directory has none (dev only).
    #[arg(long, env = "JWT_GENERATE_KEY", action = ArgAction::Set, default_value_t = false)]
    pub generate_key: bool,

    /// Seconds between rescans of the keys directory (also rescanned on SIGHUP).
    #[arg(long, env = "JWT_KEYS_RESCAN_SECS", default_value_t = 5)]
    pub keys_rescan_secs: u64,

    /// Seconds a new key is published in the JWKS before it signs (longer than verifiers'
    /// refetch interval for unknown kids, 5 s in auth-proxy).
    #[arg(long, env = "JWT_KEY_ACTIVATION_SECS", default_value_t = 6)]
    pub key_activation_secs: u64,

    /// `iss` of access tokens.
    #[arg(long, env = "JWT_ISSUER", default_value = "mall")]
    pub issuer: String,

    /// `aud` of access tokens.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "mall-api")]
    pub audience: String,

    /// Access token lifetime in seconds (at most 900).
    #[arg(long, env = "ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,

    /// Refresh token lifetime in seconds.
    #[arg(long, env = "REFRESH_TOKEN_TTL_SECS", default_value_t = 2_592_000)]
    pub refresh_ttl_secs: u64,

    /// Failed logins per source address + account before further attempts are slowed
    /// down (429 with Retry-After between attempts; docs/limits.md).
    #[arg(long, env = "LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: u32,

    /// Failed logins per source address, over all accounts, before attempts from it are
    /// slowed down likewise.
    #[arg(long, env = "LOGIN_ADDRESS_MAX_FAILURES", default_value_t = 100)]
    pub login_address_max_failures: u32,

    /// Seconds a failed-login counter lives after its last failure.
    #[arg(long, env = "LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,

    /// The longest wait, in seconds, between two login attempts past a threshold (the wait
    /// doubles from 1 s with every failure).
    #[arg(long, env = "LOGIN_MAX_DELAY_SECS", default_value_t = 60)]
    pub login_max_delay_secs: u64,

    /// Registration attempts per source address within REGISTER_WINDOW_SECS before 429.
    #[arg(long, env = "REGISTER_MAX_PER_ADDRESS", default_value_t = 500)]
    pub register_max_per_address: u32,

    /// The registration window in seconds (fixed, from the address's first attempt).
    #[arg(long, env = "REGISTER_WINDOW_SECS", default_value_t = 3600)]
    pub register_window_secs: u64,

    /// Email of an account that must exist with the admin role.
    #[arg(long, env = "BOOTSTRAP_ADMIN_EMAIL")]
    pub bootstrap_admin_email: Option<String>,

    /// File holding that account's password.
    #[arg(long, env = "BOOTSTRAP_ADMIN_PASSWORD_FILE")]
    pub bootstrap_admin_password_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum Command {
    /// Create a new signing key in the keys directory (key rotation: the running service
    /// starts signing with it within the rescan interval; old keys keep verifying).
    Keygen,
}

/// Validated configuration; tests build it directly.
#[derive(Clone, Debug)]
pub struct Config {
    pub base: ServiceBase,
    pub keys_dir: PathBuf,
    pub generate_key: bool,
    pub keys_rescan: Duration,
    pub key_activation: Duration,
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub login_max_failures: u32,
    pub login_address_max_failures: u32,
    pub login_window_secs: u64,
    pub login_max_delay_secs: u64,
    pub register_max_per_address: u32,
    pub register_window_secs: u64,
    pub bootstrap_admin: Option<(Email, SecretString)>,
}

impl Cli {
    pub fn into_config(self) -> Result<Config, String> {
        if self.access_ttl_secs == 0 || self.access_ttl_secs > MAX_ACCESS_TTL_SECS {
            return Err(format!(
                "ACCESS_TOKEN_TTL_SECS must be 1..={MAX_ACCESS_TTL_SECS}"
            ));
        }
        if self.login_max_failures == 0
            || self.login_address_max_failures == 0
            || self.login_window_secs == 0
            || self.login_max_delay_secs == 0
            || self.register_max_per_address == 0
            || self.register_window_secs == 0
            || self.keys_rescan_secs == 0
        {
            return Err(
                "LOGIN_MAX_FAILURES, LOGIN_ADDRESS_MAX_FAILURES, LOGIN_WINDOW_SECS, LOGIN_MAX_DELAY_SECS, REGISTER_MAX_PER_ADDRESS, REGISTER_WINDOW_SECS and JWT_KEYS_RESCAN_SECS must be positive"
                    .into(),
            );
        }
        if self.login_max_delay_secs > self.login_window_secs {
            return Err("LOGIN_MAX_DELAY_SECS must not exceed LOGIN_WINDOW_SECS".into());
        }
        let bootstrap_admin = match (
            self.bootstrap_admin_email,
            self.bootstrap_admin_password_file,
        ) {
            (None, None) => None,
            (Some(email), Some(file)) => {
                let email =
                    Email::parse(&email).map_err(|e| format!("BOOTSTRAP_ADMIN_EMAIL: {e}"))?;
                let password = std::fs::read_to_string(&file).map_err(|e| {
                    format!(
                        "cannot read BOOTSTRAP_ADMIN_PASSWORD_FILE {}: {e}",
                        file.display()
                    )
                })?;
                Some((
                    email,
                    SecretString::from(password.trim_end_matches(['\r', '\n']).to_owned()),
                ))
            }
            _ => {
                return Err(
                    "BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD_FILE go together".into(),
                )
            }
        };
        Ok(Config {
            base: self
                .service
                .base("user", env!("CARGO_PKG_VERSION"), DEFAULT_PORT)?,
            keys_dir: self.keys_dir,
            generate_key: self.generate_key,
            keys_rescan: Duration::from_secs(self.keys_rescan_secs),
            key_activation: Duration::from_secs(self.key_activation_secs),
            issuer: self.issuer,
            audience: self.audience,
            access_ttl_secs: self.access_ttl_secs,
            refresh_ttl_secs: self.refresh_ttl_secs,
            login_max_failures: self.login_max_failures,
            login_address_max_failures: self.login_address_max_failures,
            login_window_secs: self.login_window_secs,
            login_max_delay_secs: self.login_max_delay_secs,
            register_max_per_address: self.register_max_per_address,
            register_window_secs: self.register_window_secs,
            bootstrap_admin,
        })
    }
}
