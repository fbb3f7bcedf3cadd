//! `/api/admin/users*`: list users, set roles, revoke sessions. Admin only (auth-proxy's
//! policy says so; the role is checked here again).

use std::sync::Arc;

use http::StatusCode;
use mall_contracts::user::UserStats;
use mall_http::error::respond;
use mall_http::filters::{json_body, require_role, Identity, PageOf, PageQuery, Paging, PathId};
use serde::Deserialize;
use warp::reply::Response;
use warp::Filter;

use mall_http::filters::{json_reply as json, with_state};

use super::no_content;
use crate::domain::Roles;
use crate::error::UserError;
use crate::storage::{refresh, users};
use crate::{revocation, State};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesReq {
    roles: Vec<String>,
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let list = warp::path!("api" / "admin" / "users")
        .and(warp::get())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and(warp::query::<PageQuery>())
        .and_then(|_: Identity, s, q| async move { respond(list(s, q).await) });
    let roles = warp::path!("api" / "admin" / "users" / PathId / "roles")
        .and(warp::put())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|PathId(id), admin: Identity, s, r| async move {
            respond(set_roles(s, admin, id, r).await)
        });
    let revoke = warp::path!("api" / "admin" / "users" / PathId / "revoke-sessions")
        .and(warp::post())
        .and(require_role("admin"))
        .and(with_state(state.clone()))
        .and_then(|PathId(id), admin: Identity, s| async move {
            respond(revoke_sessions(s, admin, id).await)
        });
    // Internal (never exposed by nginx's public listener): the order service's admin stats.
    let stats = warp::path!("internal" / "users" / "stats")
        .and(warp::get())
        .and(with_state(state))
        .and_then(|s: Arc<State>| async move { respond(stats(s).await) });
    list.or(roles).unify().or(revoke).unify().or(stats).unify()
}

async fn stats(state: Arc<State>) -> Result<Response, UserError> {
    let users = users::count(&state.pool).await?;
    Ok(json(StatusCode::OK, &UserStats { users }))
}

async fn list(state: Arc<State>, q: PageQuery) -> Result<Response, UserError> {
    let paging = Paging::try_from_query(q)?;
    let (items, total) = users::page(&state.pool, paging.offset(), paging.size).await?;
    Ok(json(StatusCode::OK, &PageOf::new(items, paging, total)))
}

async fn set_roles(
    state: Arc<State>,
    admin: Identity,
    id: u64,
    req: RolesReq,
) -> Result<Response, UserError> {
    let roles = Roles::parse(&req.roles).map_err(UserError::validation)?;
    let user = users::set_roles(&state.pool, id, &roles)
        .await?
        .ok_or_else(|| UserError::not_found("no such user"))?;
    tracing::info!(admin_id = admin.user_id, target_user_id = id, roles = %roles.to_stored(), "roles changed");
    Ok(json(StatusCode::OK, &user))
}

async fn revoke_sessions(
    state: Arc<State>,
    admin: Identity,
    id: u64,
) -> Result<Response, UserError> {
    if users::find(&state.pool, id).await?.is_none() {
        return Err(UserError::not_found("no such user"));
    }
    let before = chrono::Utc::now().timestamp();
    revocation::revoke_user(&state.redis, id, before)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot revoke sessions (Redis)");
            UserError::Unavailable
        })?;
    refresh::revoke_user(&state.pool, id).await?;
    tracing::info!(
        admin_id = admin.user_id,
        target_user_id = id,
        "sessions revoked"
    );
    Ok(no_content())
}
