//! Typed configuration shared by every service: flags with environment fallbacks and a
//! documented local default for each (see `docs/runtime.md`). Services flatten
//! [`ServiceArgs`] into their own clap struct.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use secrecy::SecretString;

use crate::telemetry::Identity;

/// Exit code for bad configuration (`EX_CONFIG` would be 78; sysexits' `EX_USAGE` is 64,
/// which is what DESIGN.md asks for).
pub const EXIT_BAD_CONFIG: i32 = 64;

#[derive(clap::Args, Clone, Debug)]
pub struct ServiceArgs {
    /// Address to listen on (default: 127.0.0.1 and the service's blue port).
    #[arg(long = "listen", env = "LISTEN_ADDR")]
    pub listen: Option<SocketAddr>,

    /// The service's own database (mysql://user:password@host:port/db). Secret.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// A file holding the database password, which replaces any password in the database
    /// URL (compose keeps generated passwords in files, never in the environment). The
    /// password must be URL-safe: [A-Za-z0-9._~-].
    #[arg(long, env = "DATABASE_PASSWORD_FILE")]
    pub database_password_file: Option<std::path::PathBuf>,

    /// Redis server.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379/0")]
    pub redis_url: String,

    /// Prefix of every Redis key and channel.
    #[arg(long, env = "REDIS_PREFIX", default_value = "mall:")]
    pub redis_prefix: String,

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

/// The validated settings every service has (its own `Config` holds one as `base`).
#[derive(Clone, Debug)]
pub struct ServiceBase {
    pub info: ServiceInfo,
    pub listen: SocketAddr,
    pub database_url: SecretString,
    pub redis_url: String,
    pub redis_prefix: String,
    pub grace: Duration,
}

impl ServiceBase {
    /// Settings for tests: loopback port 0, the given database, Redis and prefix.
    pub fn for_tests(
        name: &str,
        database_url: SecretString,
        redis_url: &str,
        redis_prefix: &str,
    ) -> Self {
        Self {
            info: ServiceInfo {
                name: name.into(),
                color: "blue".into(),
                version: "test".into(),
            },
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url,
            redis_url: redis_url.to_owned(),
            redis_prefix: redis_prefix.to_owned(),
            grace: Duration::from_secs(2),
        }
    }
}

/// What a service knows about itself once configured.
#[derive(Clone, Debug)]
pub struct ServiceInfo {
    pub name: String,
    pub color: String,
    pub version: String,
}

// === impl ServiceArgs ===

impl ServiceArgs {
    /// The shared settings of service `name` (database `<name>_db` and blue port by default).
    /// Fails with a one-line message when the database password file cannot be used.
    pub fn base(
        &self,
        name: &str,
        crate_version: &str,
        default_port: u16,
    ) -> Result<ServiceBase, String> {
        let mut database_url = self.database_url_or_default(name);
        if let Some(path) = &self.database_password_file {
            let password = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "DATABASE_PASSWORD_FILE {}: cannot read: {e}",
                    path.display()
                )
            })?;
            database_url = with_password(&database_url, password.trim_end_matches(['\n', '\r']))
                .map_err(|e| format!("DATABASE_PASSWORD_FILE {}: {e}", path.display()))?;
        }
        Ok(ServiceBase {
            info: self.info(name, crate_version),
            listen: self.listen_or(default_port),
            database_url,
            redis_url: self.redis_url.clone(),
            redis_prefix: self.redis_prefix.clone(),
            grace: self.grace(),
        })
    }

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

    /// The database URL, or the local default for `<name>_svc` on `<name>_db`.
    pub fn database_url_or_default(&self, name: &str) -> SecretString {
        self.database_url.clone().unwrap_or_else(|| {
            SecretString::from(format!("mysql://{name}_svc@127.0.0.1:3306/{name}_db"))
        })
    }
}

/// `url` with its password replaced by `password` (URL-safe characters only, so nothing
/// needs encoding and nothing of the secret ends up in an error message).
fn with_password(url: &SecretString, password: &str) -> Result<SecretString, String> {
    use secrecy::ExposeSecret;
    let url = url.expose_secret();
    if password.is_empty() {
        return Err("the file is empty".into());
    }
    if !password
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
    {
        return Err("the password must be URL-safe ([A-Za-z0-9._~-])".into());
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("the database URL has no scheme")?;
    let (userinfo, host) = rest
        .split_once('@')
        .ok_or("the database URL names no user (mysql://user@host/db)")?;
    let user = userinfo.split(':').next().unwrap_or_default();
    Ok(SecretString::from(format!(
        "{scheme}://{user}:{password}@{host}"
    )))
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

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret, SecretString};

    use super::with_password;

    fn url(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn password_file_replaces_or_adds_the_password() {
        let with = with_password(
            &url("mysql://user_svc:old@mysql:3306/user_db"),
            "n3w-pw_ok.~",
        );
        assert_eq!(
            with.expect("valid").expose_secret(),
            "mysql://user_svc:n3w-pw_ok.~@mysql:3306/user_db"
        );
        let without = with_password(&url("mysql://user_svc@mysql:3306/user_db"), "abc");
        assert_eq!(
            without.expect("valid").expose_secret(),
            "mysql://user_svc:abc@mysql:3306/user_db"
        );
    }

    #[test]
    fn unsafe_or_empty_passwords_are_refused_without_echoing_them() {
        for bad in ["", "a@b", "p/w", "has space", "x:y"] {
            let err = with_password(&url("mysql://u@h/db"), bad).expect_err(bad);
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
        assert!(with_password(&url("mysql-no-scheme"), "abc").is_err());
    }
}
