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

/// Read-cache helpers: Redis trouble is a miss, never an error (MySQL is the source of
/// truth; a Redis outage costs speed, not correctness), logged at warn.
impl Redis {
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut conn = self.conn();
        match redis::cmd("GET")
            .arg(key)
            .query_async::<Option<Vec<u8>>>(&mut conn)
            .await
        {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).ok(),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cache read failed; reading from the database");
                None
            }
        }
    }

    /// Several keys in one round trip (MGET): one entry per key, `None` for a key that is
    /// missing or unreadable; `None` altogether when Redis fails.
    pub async fn get_many_json<T: serde::de::DeserializeOwned>(
        &self,
        keys: &[String],
    ) -> Option<Vec<Option<T>>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let mut conn = self.conn();
        match redis::cmd("MGET")
            .arg(keys)
            .query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
            .await
        {
            Ok(values) if values.len() == keys.len() => Some(
                values
                    .into_iter()
                    .map(|v| v.and_then(|b| serde_json::from_slice(&b).ok()))
                    .collect(),
            ),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cache read failed; reading from the database");
                None
            }
        }
    }

    pub async fn set_json<T: serde::Serialize>(&self, key: &str, value: &T, ttl_secs: u64) {
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        let mut conn = self.conn();
        let set = redis::cmd("SET")
            .arg(key)
            .arg(bytes)
            .arg("EX")
            .arg(ttl_secs)
            .query_async::<()>(&mut conn)
            .await;
        if let Err(e) = set {
            tracing::warn!(error = %e, "cache write failed");
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), redis::RedisError> {
        let mut conn = self.conn();
        redis::cmd("DEL")
            .arg(key)
            .query_async::<()>(&mut conn)
            .await
    }

    /// The current generation of a cache namespace (`None` when Redis is unreachable:
    /// callers then skip the cache).
    pub async fn generation(&self, name: &str) -> Option<u64> {
        let mut conn = self.conn();
        match redis::cmd("GET")
            .arg(self.key(name))
            .query_async::<Option<u64>>(&mut conn)
            .await
        {
            Ok(g) => Some(g.unwrap_or(0)),
            Err(e) => {
                tracing::warn!(error = %e, "cache unavailable; reading from the database");
                None
            }
        }
    }

    /// Starts a new generation: every key built from the old one is dead at once.
    pub async fn bump_generation(&self, name: &str) -> Result<(), redis::RedisError> {
        let mut conn = self.conn();
        redis::cmd("INCR")
            .arg(self.key(name))
            .query_async::<()>(&mut conn)
            .await
    }
}
