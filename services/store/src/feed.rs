//! Following a Redis channel for as long as the process runs, for a copy kept in memory
//! that the channel's messages invalidate (the product cache, the cart's prices).
//!
//! The copy may be used only while subscribed: from the moment the subscription is
//! confirmed (the listener drops everything it holds then, since what was published while
//! it was away was missed) until it fails (a closed connection, or a ping unanswered for
//! [`REDIS_TIMEOUT`]). Then the listener is told, the follower backs off and subscribes
//! again.

use std::convert::Infallible;
use std::time::Duration;

use futures_util::StreamExt;
use mall_runtime::reconnect::Reconnect;

use crate::cache::Redis;

/// What a follower tells the copy it keeps.
pub trait Listener: Send + Sync {
    /// Subscribed (again): drop everything held, then start using the copy.
    fn subscribed(&self);
    /// The subscription failed: stop using the copy. Answers whether it was in use.
    fn lost(&self) -> bool;
    /// A message from the channel.
    fn message(&self, payload: &[u8]);
}

const REDIS_TIMEOUT: Duration = Duration::from_secs(2);
const PING_EVERY: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Follows `channel` (a full name, prefix included) forever: subscribe, tell `listener`,
/// hand it every message; on any failure tell it, back off and start over. `what` names
/// the feed in the log.
pub async fn follow(redis: Redis, channel: String, what: &str, listener: impl Listener) {
    let mut retry = Reconnect::new(Duration::from_millis(100), MAX_BACKOFF);
    loop {
        let err = match session(&redis, &channel, what, &listener).await {
            Ok(never) => match never {},
            Err(e) => e,
        };
        if retry.failed(listener.lost()) {
            tracing::warn!(error = %err, feed = what, "change feed from Redis is down; bypassing the copy it keeps current");
        }
        retry.wait().await;
    }
}

/// One subscription's life; it only ever ends with the error that ended it.
async fn session(
    redis: &Redis,
    channel: &str,
    what: &str,
    listener: &impl Listener,
) -> anyhow::Result<Infallible> {
    let mut pubsub = timed(redis.client().get_async_pubsub()).await?;
    timed(pubsub.subscribe(channel)).await?;
    listener.subscribed();
    tracing::info!(feed = what, "change feed connected");
    let (mut sink, mut stream) = pubsub.split();
    let mut tick = tokio::time::interval(PING_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { anyhow::bail!("the subscription closed") };
                listener.message(msg.get_payload_bytes());
            }
            _ = tick.tick() => {
                timed(sink.ping::<redis::Value>()).await?;
            }
        }
    }
}

async fn timed<T>(
    fut: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> anyhow::Result<T> {
    mall_runtime::time::within(REDIS_TIMEOUT, "Redis", fut).await
}

/// Waits up to `limit` for `ready` (a copy's first subscription, so a service answers from
/// its copy from its first request when Redis is there); without it the service starts
/// anyway.
pub async fn wait_until(limit: Duration, ready: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !ready() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
