//! Writes revocations where every auth-proxy reads them (docs/runtime.md): the two sorted
//! sets for the periodic resync, and a pub/sub message for the push. Old entries are
//! trimmed in the same pipeline.

use mall_store::cache::Redis;
use serde_json::json;
use tracing::instrument;

/// Longest access-token lifetime plus leeway: older entries can no longer match a token.
const KEEP_SECS: i64 = 900 + 60;

/// Revokes access tokens `(jti, exp)`, each until its `exp`, in one atomic pipeline: the
/// sorted set for the resync and one push per token (the message auth-proxy applies).
#[instrument(skip_all, fields(tokens = tokens.len()))]
pub async fn revoke_tokens(
    redis: &Redis,
    tokens: &[(String, i64)],
) -> Result<(), redis::RedisError> {
    if tokens.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let set = redis.key("revoked:jti");
    let channel = redis.key("revocations");
    let mut pipe = redis::pipe();
    pipe.atomic();
    for (jti, exp) in tokens {
        pipe.zadd(&set, jti, *exp).ignore();
    }
    pipe.zrembyscore(&set, "-inf", now - 1).ignore();
    for (jti, exp) in tokens {
        let msg = json!({ "kind": "jti", "jti": jti, "exp": exp }).to_string();
        pipe.publish(&channel, msg).ignore();
    }
    pipe.query_async::<()>(&mut redis.conn()).await
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
