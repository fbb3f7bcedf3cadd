//! Redis: one lazily connecting, auto-reconnecting connection manager per process, with
//! short timeouts so a Redis outage slows nothing down (callers fall back or degrade), and
//! the key prefix every key and channel carries.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

#[derive(Clone)]
pub struct Redis {
    client: redis::Client,
    manager: ConnectionManager,
    prefix: Arc<str>,
}

impl Redis {
    /// Validates the URL and creates the manager; no connection is made until first use,
    /// so a service starts (degraded) while Redis is down.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid REDIS_URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| anyhow::anyhow!("while creating the Redis connection manager: {e}"))?;
        Ok(Self {
            client,
            manager,
            prefix: prefix.into(),
        })
    }

    /// `prefix + name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A handle for commands (cheap clone of the shared multiplexed connection).
    pub fn conn(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// The client, for pub/sub connections.
    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    pub async fn ping(&self) -> bool {
        let mut conn = self.conn();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(
            tokio::time::timeout(Duration::from_secs(1), ping).await,
            Ok(Ok(_))
        )
    }
}
