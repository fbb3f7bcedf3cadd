//! The configuration every mall process shares: flags with environment fallbacks and a
//! documented local default for each (see `docs/runtime.md`). Each process flattens
//! [`RuntimeArgs`] into its own clap struct (the services through `mall-http`'s
//! `ServiceArgs`, which adds the store's flags), and bad configuration exits 64.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use crate::telemetry::Identity;

/// Exit code for bad configuration (`EX_CONFIG` would be 78; sysexits' `EX_USAGE` is 64,
/// which is what DESIGN.md asks for).
pub const EXIT_BAD_CONFIG: i32 = 64;

/// The flags every mall process shares (flattened into each one's clap struct).
#[derive(clap::Args, Clone, Debug)]
pub struct RuntimeArgs {
    /// Address to listen on (default: 127.0.0.1 and the process's blue port).
    #[arg(long = "listen", env = "LISTEN_ADDR")]
    pub listen: Option<SocketAddr>,

    /// Deployment slot: blue or green.
    #[arg(long = "color", env = "SLOT_COLOR", default_value = "blue", value_parser = ["blue", "green"])]
    pub color: String,

    /// Version label shown in logs and X-Served-By (default: the crate version).
    #[arg(long, env = "SERVICE_VERSION")]
    pub service_version: Option<String>,

    /// Seconds in-flight requests may run after SIGTERM/SIGINT.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

/// What a service knows about itself once configured.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    pub name: String,
    pub color: String,
    pub version: String,
}

// === impl RuntimeArgs ===

impl RuntimeArgs {
    pub fn info(&self, name: &str, crate_version: &str) -> ServiceInfo {
        ServiceInfo {
            name: name.to_owned(),
            color: self.color.clone(),
            version: self
                .service_version
                .clone()
                .unwrap_or_else(|| crate_version.to_owned()),
        }
    }

    pub fn listen_or(&self, default_port: u16) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], default_port)))
    }

    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

// === impl ServiceInfo ===

impl ServiceInfo {
    pub fn identity(&self) -> Identity {
        Identity {
            service: self.name.clone(),
            color: self.color.clone(),
            version: self.version.clone(),
        }
    }

    /// `X-Served-By` value: `<service>-<color>@<version>`.
    pub fn served_by(&self) -> String {
        format!("{}-{}@{}", self.name, self.color, self.version)
    }
}

/// Parses the command line; help and version print and exit 0, anything wrong prints one
/// line on stderr and exits 64.
pub fn parse_or_exit<T: Parser>() -> T {
    match T::try_parse() {
        Ok(v) => v,
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                let _ = e.print();
                std::process::exit(0)
            }
            _ => {
                let text = e.to_string();
                let first = text
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("invalid configuration");
                exit_bad_config(first.trim_start_matches("error: "))
            }
        },
    }
}

/// One line on stderr, exit 64.
pub fn exit_bad_config(message: &str) -> ! {
    crate::telemetry::shutdown();
    eprintln!("configuration error: {message}");
    std::process::exit(EXIT_BAD_CONFIG)
}

/// A configuration fault found after parsing (a policy file that does not load, an address
/// that cannot be bound): [`crate::launch`] exits 64 on it, like on a bad flag.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadConfig(pub String);
