//! The revocation denylist: an in-memory copy of the two Redis sorted sets the user
//! service writes (`<prefix>revoked:jti`, `<prefix>revoked:users`), kept current by the
//! `<prefix>revocations` pub/sub channel and a periodic full resync. Requests only read
//! memory; Redis being down means the last known list is used (and a gauge says so).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use mall_runtime::reconnect::Reconnect;
use serde::Deserialize;

use crate::metrics::Metrics;

/// One message of the revocation channel.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Revocation {
    /// One token, until its expiry.
    Jti { jti: String, exp: u64 },
    /// Every token of `sub` issued at or before `before`.
    User { sub: String, before: u64 },
}

#[derive(Default)]
struct Lists {
    jtis: HashMap<String, u64>,
    users: HashMap<String, u64>,
}

pub struct Denylist {
    lists: RwLock<Lists>,
    /// How long a user entry matters: the longest token lifetime plus leeway.
    horizon: u64,
    leeway: u64,
    metrics: Arc<Metrics>,
}

// === impl Denylist ===

impl Denylist {
    pub fn new(max_lifetime: u64, leeway: u64, metrics: Arc<Metrics>) -> Self {
        Self {
            lists: RwLock::new(Lists::default()),
            horizon: max_lifetime + leeway,
            leeway,
            metrics,
        }
    }

    /// The per-request check: two hash lookups under a read lock held for nothing else.
    pub fn is_revoked(&self, jti: &str, sub: &str, iat: u64) -> bool {
        let lists = self.lists.read().unwrap_or_else(|e| e.into_inner());
        lists.jtis.contains_key(jti) || lists.users.get(sub).is_some_and(|&before| iat <= before)
    }

    pub fn apply(&self, r: Revocation) {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        match r {
            Revocation::Jti { jti, exp } => {
                let e = lists.jtis.entry(jti).or_insert(exp);
                *e = (*e).max(exp);
            }
            Revocation::User { sub, before } => {
                let e = lists.users.entry(sub).or_insert(before);
                *e = (*e).max(before);
            }
        }
        self.metrics
            .denylist_size
            .set((lists.jtis.len() + lists.users.len()) as i64);
    }

    /// Merges a full snapshot of both sets and drops what can no longer matter.
    pub fn merge(&self, jtis: Vec<(String, f64)>, users: Vec<(String, f64)>, now: u64) {
        {
            let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
            for (jti, exp) in jtis {
                let e = lists.jtis.entry(jti).or_insert(0);
                *e = (*e).max(score(exp));
            }
            for (sub, before) in users {
                let e = lists.users.entry(sub).or_insert(0);
                *e = (*e).max(score(before));
            }
        }
        self.prune(now);
    }

    /// Drops jti entries past `exp + leeway` and user entries older than any live token.
    pub fn prune(&self, now: u64) {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        let (leeway, horizon) = (self.leeway, self.horizon);
        lists.jtis.retain(|_, exp| exp.saturating_add(leeway) > now);
        lists
            .users
            .retain(|_, before| before.saturating_add(horizon) > now);
        self.metrics
            .denylist_size
            .set((lists.jtis.len() + lists.users.len()) as i64);
    }

    pub fn len(&self) -> usize {
        let lists = self.lists.read().unwrap_or_else(|e| e.into_inner());
        lists.jtis.len() + lists.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn score(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        s as u64
    } else {
        0
    }
}

/// Unix seconds now.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Where the feed lives in Redis.
#[derive(Clone, Debug)]
pub struct Feed {
    pub client: redis::Client,
    pub prefix: String,
    pub resync_every: Duration,
}

const REDIS_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

// === impl Feed ===

impl Feed {
    /// Follows the feed forever: subscribe, resync, apply messages, resync periodically;
    /// on any failure mark Redis down, back off and start over.
    pub async fn follow(self, list: Arc<Denylist>, metrics: Arc<Metrics>) {
        let mut retry = Reconnect::new(Duration::from_millis(250), MAX_BACKOFF);
        loop {
            let mut connected = false;
            let err = match self.session(&list, &metrics, &mut connected).await {
                Ok(never) => match never {},
                Err(e) => e,
            };
            metrics.redis_connected.set(0);
            if retry.failed(connected) {
                tracing::warn!(error = %err, "revocation feed from Redis is down; using the last known denylist");
            } else {
                tracing::debug!(error = %err, "revocation feed still down");
            }
            retry.wait().await;
        }
    }

    /// One connection's life; it only ever ends with the error that ended it.
    async fn session(
        &self,
        list: &Denylist,
        metrics: &Metrics,
        connected: &mut bool,
    ) -> anyhow::Result<std::convert::Infallible> {
        let channel = format!("{}revocations", self.prefix);
        let mut pubsub = timed(self.client.get_async_pubsub()).await?;
        timed(pubsub.subscribe(&channel)).await?;
        let mut con = timed(self.client.get_multiplexed_async_connection()).await?;
        // Subscribed first, then the snapshot: nothing published in between is lost.
        self.resync(&mut con, list).await?;
        *connected = true;
        metrics.redis_connected.set(1);
        tracing::info!(
            entries = list.len(),
            "revocation feed connected and resynced"
        );
        let (mut sink, mut stream) = pubsub.split();
        let mut tick = tokio::time::interval(self.resync_every);
        tick.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { anyhow::bail!("the subscription closed") };
                    match serde_json::from_slice::<Revocation>(msg.get_payload_bytes()) {
                        Ok(r) => list.apply(r),
                        Err(e) => tracing::warn!(error = %e, "ignored a malformed revocation message"),
                    }
                }
                _ = tick.tick() => {
                    self.resync(&mut con, list).await?;
                    timed(sink.ping::<redis::Value>()).await?;
                }
            }
        }
    }

    async fn resync(
        &self,
        con: &mut redis::aio::MultiplexedConnection,
        list: &Denylist,
    ) -> anyhow::Result<()> {
        let now = now_secs();
        let jti_min = now.saturating_sub(list.leeway);
        let user_min = now.saturating_sub(list.horizon);
        let jtis: Vec<(String, f64)> = timed(
            redis::cmd("ZRANGEBYSCORE")
                .arg(format!("{}revoked:jti", self.prefix))
                .arg(jti_min)
                .arg("+inf")
                .arg("WITHSCORES")
                .query_async(con),
        )
        .await?;
        let users: Vec<(String, f64)> = timed(
            redis::cmd("ZRANGEBYSCORE")
                .arg(format!("{}revoked:users", self.prefix))
                .arg(user_min)
                .arg("+inf")
                .arg("WITHSCORES")
                .query_async(con),
        )
        .await?;
        list.merge(jtis, users, now);
        Ok(())
    }
}

async fn timed<T>(
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> anyhow::Result<T> {
    mall_runtime::time::within(REDIS_TIMEOUT, "Redis", fut).await
}

#[cfg(test)]
#[path = "revocation_tests.rs"]
mod tests;
