//! The `users` table.

use chrono::NaiveDateTime;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use serde::Serialize;
use tracing::instrument;

use super::{now_naive, rfc3339};
use crate::domain::{Email, Name, Roles};

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub roles: Vec<String>,
    pub created_at: String,
}

type Row = (u64, String, String, String, NaiveDateTime);

fn view((id, email, name, roles, created): Row) -> UserView {
    UserView {
        id,
        email,
        name,
        roles: Roles::from_stored(&roles).as_slice().to_vec(),
        created_at: rfc3339(created),
    }
}

const COLUMNS: &str = "id, email, name, roles, created_at";

/// Inserts a user; a duplicate email surfaces as the MySQL duplicate-key error.
#[instrument(skip_all)]
pub async fn insert(
    pool: &Pool,
    email: &Email,
    name: &Name,
    hash: &str,
    roles: &Roles,
) -> Result<UserView, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let now = now_naive();
    conn.exec_drop(
        "INSERT INTO users (email, password_hash, name, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (email.as_str(), hash, name.as_str(), roles.to_stored(), now, now),
    )
    .await?;
    let id = conn.last_insert_id().unwrap_or_default();
    Ok(UserView {
        id,
        email: email.to_string(),
        name: name.as_str().to_owned(),
        roles: roles.as_slice().to_vec(),
        created_at: rfc3339(now),
    })
}

/// `(id, password hash, roles)` for a login.
#[instrument(skip_all)]
pub async fn credentials(
    pool: &Pool,
    email: &Email,
) -> Result<Option<(u64, String, Roles)>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let row: Option<(u64, String, String)> = conn
        .exec_first(
            "SELECT id, password_hash, roles FROM users WHERE email = ?",
            (email.as_str(),),
        )
        .await?;
    Ok(row.map(|(id, hash, roles)| (id, hash, Roles::from_stored(&roles))))
}

#[instrument(skip_all, fields(user_id = id))]
pub async fn find(pool: &Pool, id: u64) -> Result<Option<UserView>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let row: Option<Row> = conn
        .exec_first(format!("SELECT {COLUMNS} FROM users WHERE id = ?"), (id,))
        .await?;
    Ok(row.map(view))
}

#[instrument(skip_all)]
pub async fn page(
    pool: &Pool,
    offset: u64,
    limit: u32,
) -> Result<(Vec<UserView>, u64), mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    let rows: Vec<Row> = conn
        .exec(
            format!("SELECT {COLUMNS} FROM users ORDER BY id LIMIT ? OFFSET ?"),
            (limit, offset),
        )
        .await?;
    let total: Option<u64> = conn.query_first("SELECT COUNT(*) FROM users").await?;
    Ok((rows.into_iter().map(view).collect(), total.unwrap_or(0)))
}

#[instrument(skip_all, fields(user_id = id))]
pub async fn set_roles(
    pool: &Pool,
    id: u64,
    roles: &Roles,
) -> Result<Option<UserView>, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    conn.exec_drop(
        "UPDATE users SET roles = ?, updated_at = ? WHERE id = ?",
        (roles.to_stored(), now_naive(), id),
    )
    .await?;
    drop(conn);
    find(pool, id).await
}

/// Makes sure the bootstrap admin exists and holds the admin role. The password is set
/// only when the account is created.
#[instrument(skip_all)]
pub async fn ensure_admin(
    pool: &Pool,
    email: &Email,
    hash: &str,
) -> Result<u64, mysql_async::Error> {
    if let Some((id, _, roles)) = credentials(pool, email).await? {
        if !roles.contains("admin") {
            set_roles(pool, id, &Roles::admin()).await?;
        }
        return Ok(id);
    }
    let name = Name::parse("Administrator").map_err(|e| mysql_async::Error::Other(e.into()))?;
    match insert(pool, email, &name, hash, &Roles::admin()).await {
        Ok(u) => Ok(u.id),
        // Two slots starting at once: the other one created it.
        Err(e) if mall_store::db::is_duplicate_key(&e) => Ok(credentials(pool, email)
            .await?
            .map(|c| c.0)
            .unwrap_or_default()),
        Err(e) => Err(e),
    }
}

#[instrument(skip_all)]
pub async fn count(pool: &Pool) -> Result<u64, mysql_async::Error> {
    let mut conn = mall_store::db::conn(pool).await?;
    Ok(conn
        .query_first("SELECT COUNT(*) FROM users")
        .await?
        .unwrap_or(0))
}
