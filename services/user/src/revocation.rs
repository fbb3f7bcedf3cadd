//! Writes revocations where every auth-proxy reads them (docs/runtime.md): the two sorted
//! sets for the periodic resync, and a pub/sub message for the push. Old entries are
//! trimmed in the same pipeline.

use mall_common::cache::Redis;
use serde_json::json;
use tracing::instrument;

/// Longest access-token lifetime plus leeway: older entries can no longer match a token.
const KEEP_SECS: i64 = 900 + 60;

/// Revokes one access token until its `exp`.
#[instrument(skip_all)]
pub async fn revoke_token(redis: &Redis, jti: &str, exp: i64) -> Result<(), redis::RedisError> {
    let now = chrono::Utc::now().timestamp();
    let set = redis.key("revoked:jti");
    let msg = json!({ "kind": "jti", "jti": jti, "exp": exp }).to_string();
    redis::pipe()
        .atomic()
        .zadd(&set, jti, exp)
        .ignore()
        .zrembyscore(&set, "-inf", now - 1)
        .ignore()
        .publish(redis.key("revocations"), msg)
        .ignore()
        .query_async::<()>(&mut redis.conn())
        .await
}

/// Revokes every token of `user_id` issued at or before `before` (unix seconds).
#[instrument(skip_all, fields(user_id))]
pub async fn revoke_user(
    redis: &Redis,
    user_id: u64,
    before: i64,
) -> Result<(), redis::RedisError> {
    let set = redis.key("revoked:users");
    let msg = json!({ "kind": "user", "sub": user_id.to_string(), "before": before }).to_string();
    redis::pipe()
        .atomic()
        .zadd(&set, user_id.to_string(), before)
        .ignore()
        .zrembyscore(&set, "-inf", before - KEEP_SECS)
        .ignore()
        .publish(redis.key("revocations"), msg)
        .ignore()
        .query_async::<()>(&mut redis.conn())
        .await
}
