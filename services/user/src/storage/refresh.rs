//! The `refresh_tokens` table: one row per issued refresh token, grouped in families (one
//! family per login). Rotation marks a token used and adds its successor; presenting a used
//! token revokes the family.

use chrono::{Duration, NaiveDateTime};
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use tracing::instrument;

use super::now_naive;

/// A new row.
pub struct NewRefresh<'a> {
    pub user_id: u64,
    pub family_id: &'a str,
    pub token_hash: &'a str,
    pub access_jti: &'a str,
    pub access_expires_at: i64,
    pub ttl_secs: u64,
}

#[instrument(skip_all, fields(user_id = new.user_id))]
pub async fn insert(pool: &Pool, new: &NewRefresh<'_>) -> Result<(), mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    insert_on(&mut conn, new).await
}

async fn insert_on<C: Queryable>(
    conn: &mut C,
    new: &NewRefresh<'_>,
) -> Result<(), mysql_async::Error> {
    let now = now_naive();
    let ttl = Duration::seconds(i64::try_from(new.ttl_secs).unwrap_or(i64::MAX / 2_000));
    conn.exec_drop(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, access_jti, access_expires_at, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        (new.user_id, new.family_id, new.token_hash, new.access_jti, new.access_expires_at, now + ttl, now),
    )
    .await
}

/// What happened to a presented refresh token.
pub enum Rotation {
    /// Valid: it is now spent, and its successor is stored.
    Rotated { user_id: u64 },
    /// Unknown, expired or revoked.
    Invalid,
    /// Already spent: the whole family is now revoked; these access tokens must be revoked too.
    Reused {
        user_id: u64,
        access_tokens: Vec<(String, i64)>,
    },
}

/// `user_id, family_id, expires_at, used_at, revoked_at` of a presented token.
type Presented = (
    u64,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

/// The successor of a rotated token (its user and family come from the spent one).
pub struct Successor<'a> {
    pub token_hash: &'a str,
    pub access_jti: &'a str,
    pub access_expires_at: i64,
    pub ttl_secs: u64,
}

/// Spends `token_hash` and stores its successor in the same family, in one transaction.
/// A transaction InnoDB picks as a deadlock's victim (two tokens of one family presented at
/// once, each revoking the family) was rolled back whole and runs again from its read.
#[instrument(skip_all)]
pub async fn rotate(
    pool: &Pool,
    token_hash: &str,
    next: &Successor<'_>,
) -> Result<Rotation, mysql_async::Error> {
    mall_store::deadlock::retry("refresh rotation", || rotate_once(pool, token_hash, next)).await
}

async fn rotate_once(
    pool: &Pool,
    token_hash: &str,
    next: &Successor<'_>,
) -> Result<Rotation, mysql_async::Error> {
    let mut tx = mall_store::db::transaction(pool).await?;
    let row: Option<Presented> = tx
        .exec_first(
            "SELECT user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ? FOR UPDATE",
            (token_hash,),
        )
        .await?;
    let now = now_naive();
    let Some((user_id, family, expires, used, revoked)) = row else {
        return Ok(Rotation::Invalid);
    };
    if revoked.is_some() || expires <= now {
        return Ok(Rotation::Invalid);
    }
    if used.is_some() {
        let access_tokens = revoke_family_on(&mut tx, &family).await?;
        tx.commit().await?;
        return Ok(Rotation::Reused {
            user_id,
            access_tokens,
        });
    }
    tx.exec_drop(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?",
        (now, token_hash),
    )
    .await?;
    insert_on(
        &mut tx,
        &NewRefresh {
            user_id,
            family_id: &family,
            token_hash: next.token_hash,
            access_jti: next.access_jti,
            access_expires_at: next.access_expires_at,
            ttl_secs: next.ttl_secs,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Rotation::Rotated { user_id })
}

/// Revokes the family and returns its still-live access tokens `(jti, exp)`.
async fn revoke_family_on<C: Queryable>(
    conn: &mut C,
    family: &str,
) -> Result<Vec<(String, i64)>, mysql_async::Error> {
    let now = now_naive();
    conn.exec_drop(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        (now, family),
    )
    .await?;
    conn.exec(
        "SELECT access_jti, access_expires_at FROM refresh_tokens WHERE family_id = ? AND access_expires_at > ?",
        (family, chrono::Utc::now().timestamp()),
    )
    .await
}

/// Logout: revokes the family (the sign-in) the access token `jti` was issued with, and
/// returns the family's access tokens that are still live `(jti, exp)`, for revocation
/// (empty when `jti` belongs to no family). A repeat finds the same tokens again.
#[instrument(skip_all)]
pub async fn revoke_family_of_access(
    pool: &Pool,
    jti: &str,
) -> Result<Vec<(String, i64)>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let family: Option<String> = conn
        .exec_first(
            "SELECT family_id FROM refresh_tokens WHERE access_jti = ?",
            (jti,),
        )
        .await?;
    match family {
        Some(family) => revoke_family_on(&mut conn, &family).await,
        None => Ok(Vec::new()),
    }
}

/// Admin revoke-sessions: every refresh token of the user.
#[instrument(skip_all, fields(user_id))]
pub async fn revoke_user(pool: &Pool, user_id: u64) -> Result<(), mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    conn.exec_drop(
        "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        (now_naive(), user_id),
    )
    .await
}
