//! A warp service's flags: the runtime's (listen, slot, version, grace) and the store's
//! (database, Redis), flattened into each service's clap struct, validated into the
//! [`ServiceBase`] its `Config` holds.

use std::net::SocketAddr;
use std::time::Duration;

use mall_runtime::config::RuntimeArgs;
use mall_store::config::StoreArgs;
use secrecy::SecretString;

pub use mall_runtime::config::ServiceInfo;

#[derive(clap::Args, Clone, Debug)]
pub struct ServiceArgs {
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[command(flatten)]
    pub store: StoreArgs,
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

impl ServiceArgs {
    /// The shared settings of service `name` (database `<name>_db` and blue port by default).
    /// Fails with a one-line message when the database password file cannot be used.
    pub fn base(
        &self,
        name: &str,
        crate_version: &str,
        default_port: u16,
    ) -> Result<ServiceBase, String> {
        Ok(ServiceBase {
            info: self.runtime.info(name, crate_version),
            listen: self.runtime.listen_or(default_port),
            database_url: self.store.database_url(name)?,
            redis_url: self.store.redis_url.clone(),
            redis_prefix: self.store.redis_prefix.clone(),
            grace: self.runtime.grace(),
        })
    }
}
