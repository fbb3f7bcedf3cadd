//! What the product processes tell each other: a change one of them made (an admin write,
//! an order's stock change) reaches the others' caches through the Redis channel
//! `{prefix}catalog:changes` (during a blue/green switch both slots serve).
//!
//! A process uses its cache only while it is subscribed: from the moment the subscription
//! is confirmed (everything cached before is dropped then, since changes published while
//! it was away were missed) until it fails (a closed connection, or a ping unanswered for
//! [`REDIS_TIMEOUT`]). Meanwhile it reads MySQL.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use mall_runtime::reconnect::Reconnect;

use super::CatalogCache;

/// A change, as published: `{origin} all` or `{origin} stock {id},{id},…`, where `origin`
/// is the publishing process's own random number (it skips its own messages: it applied
/// the change before publishing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// An admin write: every entry and stock is dead.
    All,
    /// These products' stocks are dead.
    Stock(Vec<u64>),
}

pub(super) fn message(origin: u64, change: &Change) -> String {
    match change {
        Change::All => format!("{origin} all"),
        Change::Stock(ids) => {
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            format!("{origin} stock {}", ids.join(","))
        }
    }
}

/// The origin and change of a message; `None` when it is not one.
pub(super) fn parse(payload: &[u8]) -> Option<(u64, Change)> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut words = text.split(' ');
    let origin = words.next()?.parse().ok()?;
    let change = match (words.next()?, words.next()) {
        ("all", None) => Change::All,
        ("stock", Some(ids)) => Change::Stock(
            ids.split(',')
                .map(|id| id.parse().ok())
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    };
    words.next().is_none().then_some((origin, change))
}

const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
const PING_EVERY: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

impl CatalogCache {
    /// Follows the channel forever: subscribe, drop what is cached, apply the others'
    /// changes; on any failure stop using the cache, back off and start over.
    pub async fn follow(self) {
        if !self.enabled {
            return;
        }
        let mut retry = Reconnect::new(Duration::from_millis(100), MAX_BACKOFF);
        loop {
            let err = match self.session().await {
                Ok(never) => match never {},
                Err(e) => e,
            };
            let subscribed = self.subscribed.swap(false, Ordering::AcqRel);
            if retry.failed(subscribed) {
                tracing::warn!(error = %err, "catalog change feed from Redis is down; reading from the database");
            }
            retry.wait().await;
        }
    }

    /// One subscription's life; it only ever ends with the error that ended it.
    async fn session(&self) -> anyhow::Result<std::convert::Infallible> {
        let mut pubsub = timed(self.redis.client().get_async_pubsub()).await?;
        timed(pubsub.subscribe(&self.channel)).await?;
        self.local.flush();
        self.subscribed.store(true, Ordering::Release);
        tracing::info!("catalog change feed connected");
        let (mut sink, mut stream) = pubsub.split();
        let mut tick = tokio::time::interval(PING_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { anyhow::bail!("the subscription closed") };
                    match parse(msg.get_payload_bytes()) {
                        Some((origin, _)) if origin == self.origin => {}
                        Some((_, Change::All)) => self.local.flush(),
                        Some((_, Change::Stock(ids))) => self.local.bump(&ids),
                        None => {
                            // Something this build cannot read: drop everything to be safe.
                            tracing::warn!("unreadable catalog change message; dropping the cache");
                            self.local.flush();
                        }
                    }
                }
                _ = tick.tick() => {
                    timed(sink.ping::<redis::Value>()).await?;
                }
            }
        }
    }

    /// Waits up to `limit` for the first subscription (so a service answers from its cache
    /// from its first request when Redis is there); without it the service starts anyway.
    pub async fn wait_subscribed(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.enabled
            && !self.subscribed.load(Ordering::Acquire)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn timed<T>(
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> anyhow::Result<T> {
    mall_runtime::time::within(REDIS_TIMEOUT, "Redis", fut).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_written() {
        for change in [
            Change::All,
            Change::Stock(vec![7]),
            Change::Stock(vec![3, 1]),
        ] {
            assert_eq!(parse(message(42, &change).as_bytes()), Some((42, change)));
        }
    }

    #[test]
    fn anything_else_is_not_a_message() {
        for bad in [
            "",
            "42",
            "42 all x",
            "42 stock",
            "42 stock ",
            "42 stock 1,,2",
            "42 stock 1 2",
            "x all",
            "42 price 1",
            "-1 all",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
