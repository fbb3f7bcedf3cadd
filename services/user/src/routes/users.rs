//! `/api/users/*`: register, login, refresh, logout, me.

use std::sync::Arc;

use http::StatusCode;
use mall_http::error::{respond, CommonError};
use mall_http::filters::{identity, json_body, Identity};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use warp::reply::Response;
use warp::Filter;

use mall_http::filters::{json_reply as json, with_state};

use super::no_content;
use crate::domain::{Email, Name, Password, Roles};
use crate::error::UserError;
use crate::ratelimit::client_address;
use crate::storage::{refresh, users};
use crate::tokens::{new_refresh_token, refresh_hash};
use crate::{passwords, revocation, State};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterReq {
    email: String,
    password: SecretString,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginReq {
    email: String,
    password: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshReq {
    refresh_token: String,
}

#[derive(Serialize)]
struct TokenPair {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
}

pub fn routes(
    state: Arc<State>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    let register = warp::path!("api" / "users" / "register")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(client())
        .and(json_body())
        .and_then(|s, a, r| async move { respond(register(s, a, r).await) });
    let login = warp::path!("api" / "users" / "login")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(client())
        .and(json_body())
        .and_then(|s, a, r| async move { respond(login(s, a, r).await) });
    let refresh = warp::path!("api" / "users" / "refresh")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(json_body())
        .and_then(|s, r| async move { respond(refresh(s, r).await) });
    let logout = warp::path!("api" / "users" / "logout")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and(identity())
        .and_then(|s, id| async move { respond(logout(s, id).await) });
    let me = warp::path!("api" / "users" / "me")
        .and(warp::get())
        .and(with_state(state))
        .and(identity())
        .and_then(|s, id| async move { respond(me(s, id).await) });
    register
        .or(login)
        .unify()
        .or(refresh)
        .unify()
        .or(logout)
        .unify()
        .or(me)
        .unify()
}

/// The client's address as nginx saw it (ratelimit::client_address).
fn client() -> impl Filter<Extract = (String,), Error = warp::Rejection> + Clone {
    warp::header::optional::<String>("x-real-ip")
        .map(|ip: Option<String>| client_address(ip.as_deref()))
}

async fn register(
    state: Arc<State>,
    address: String,
    req: RegisterReq,
) -> Result<Response, UserError> {
    // Every attempt counts, before any work (a refused one costs no password hash).
    if let Some(retry_after_secs) = state.register_limit.admit(&address).await {
        tracing::warn!("registration refused: too many from this address");
        return Err(CommonError::RateLimited { retry_after_secs }.into());
    }
    let email = Email::parse(&req.email).map_err(UserError::validation)?;
    let name = Name::parse(&req.name).map_err(UserError::validation)?;
    let password = Password::parse(req.password).map_err(UserError::validation)?;
    let hash = passwords::hash(password.secret().clone()).await?;
    match users::insert(&state.pool, &email, &name, &hash, &Roles::customer()).await {
        Ok(user) => {
            tracing::info!(user_id = user.id, "user registered");
            Ok(json(StatusCode::CREATED, &user))
        }
        Err(e) if mall_store::db::is_duplicate_key(&e) => Err(UserError::EmailTaken),
        Err(e) => Err(e.into()),
    }
}

async fn login(state: Arc<State>, address: String, req: LoginReq) -> Result<Response, UserError> {
    let email = Email::parse(&req.email).ok();
    // The account as the limit counts it: the normalised email, or the text as sent.
    let account = email
        .as_ref()
        .map_or_else(|| req.email.trim().to_lowercase(), Email::to_string);
    if let Some(retry_after_secs) = state.limit.admit(&address, &account).await {
        tracing::warn!("login slowed down: too many failures from this address");
        return Err(CommonError::RateLimited { retry_after_secs }.into());
    }
    let creds = match &email {
        Some(e) => users::credentials(&state.pool, e).await?,
        None => None,
    };
    let (stored, user) = match creds {
        Some((id, hash, roles)) => (Some(hash), Some((id, roles))),
        None => (None, None),
    };
    // Unknown email: verified against the dummy hash, so the answer takes as long.
    let ok = state.passwords.verify(req.password, stored).await?;
    match (ok, user) {
        (true, Some((id, roles))) => {
            state.limit.succeeded(&address, &account).await;
            tracing::info!(user_id = id, "login succeeded");
            let pair = start_session(&state, id, &roles).await?;
            Ok(json(StatusCode::OK, &pair))
        }
        _ => {
            state.limit.record_failure(&address, &account).await;
            tracing::info!("login failed");
            Err(UserError::InvalidCredentials)
        }
    }
}

/// A new login: a new refresh family and its first tokens.
async fn start_session(state: &State, user_id: u64, roles: &Roles) -> Result<TokenPair, UserError> {
    let now = chrono::Utc::now().timestamp();
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let access = state
        .issuer
        .issue(&state.keys.current(), user_id, roles.as_slice(), now, &jti)?;
    let refresh_token = new_refresh_token()?;
    let family = uuid::Uuid::new_v4().simple().to_string();
    refresh::insert(
        &state.pool,
        &refresh::NewRefresh {
            user_id,
            family_id: &family,
            token_hash: &refresh_hash(&refresh_token),
            access_jti: &jti,
            access_expires_at: access.exp,
            ttl_secs: state.refresh_ttl_secs,
        },
    )
    .await?;
    Ok(TokenPair {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: state.issuer.ttl_secs,
        refresh_token,
    })
}

async fn refresh(state: Arc<State>, req: RefreshReq) -> Result<Response, UserError> {
    let now = chrono::Utc::now().timestamp();
    let jti = uuid::Uuid::new_v4().simple().to_string();
    let access_exp = now + i64::try_from(state.issuer.ttl_secs).unwrap_or(900);
    let next_token = new_refresh_token()?;
    let next_hash = refresh_hash(&next_token);
    let successor = refresh::Successor {
        token_hash: &next_hash,
        access_jti: &jti,
        access_expires_at: access_exp,
        ttl_secs: state.refresh_ttl_secs,
    };
    let outcome =
        refresh::rotate(&state.pool, &refresh_hash(&req.refresh_token), &successor).await?;
    match outcome {
        refresh::Rotation::Rotated { user_id } => {
            let Some(user) = users::find(&state.pool, user_id).await? else {
                return Err(UserError::InvalidRefresh("refresh token is not valid"));
            };
            let roles = Roles::from_stored(&user.roles.join(","));
            let access =
                state
                    .issuer
                    .issue(&state.keys.current(), user_id, roles.as_slice(), now, &jti)?;
            tracing::info!(user_id, "refresh token rotated");
            Ok(json(
                StatusCode::OK,
                &TokenPair {
                    access_token: access.token,
                    token_type: "Bearer",
                    expires_in: state.issuer.ttl_secs,
                    refresh_token: next_token,
                },
            ))
        }
        refresh::Rotation::Invalid => Err(UserError::InvalidRefresh("refresh token is not valid")),
        refresh::Rotation::Reused {
            user_id,
            access_tokens,
        } => {
            tracing::warn!(user_id, "refresh token reuse detected; revoking the family");
            if let Err(e) = revocation::revoke_tokens(&state.redis, &access_tokens).await {
                tracing::error!(error = %e, "cannot revoke the access tokens of a reused family");
            }
            Err(UserError::InvalidRefresh(
                "refresh token was already used; every session of this sign-in is revoked",
            ))
        }
    }
}

/// Ends the whole sign-in: the refresh family of the presented token is revoked, and so is
/// every access token of it that is still live (the presented one included), pushed to
/// every auth-proxy at once. With the database down the presented token is still revoked
/// before the 503; a retry (safe at any point) finds the same tokens again.
async fn logout(state: Arc<State>, id: Identity) -> Result<Response, UserError> {
    let (Some(jti), Some(exp)) = (id.token_id.as_deref(), id.token_expires) else {
        return Err(CommonError::Unauthorized.into());
    };
    let family = refresh::revoke_family_of_access(&state.pool, jti).await;
    let mut tokens = family.as_ref().map_or_else(|_| Vec::new(), Clone::clone);
    if !tokens.iter().any(|(live, _)| live == jti) {
        tokens.push((jti.to_owned(), exp));
    }
    revocation::revoke_tokens(&state.redis, &tokens)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot revoke the sign-in's tokens (Redis)");
            UserError::Unavailable
        })?;
    family?;
    tracing::info!(
        user_id = id.user_id,
        tokens = tokens.len(),
        "logged out: the sign-in is revoked"
    );
    Ok(no_content())
}

async fn me(state: Arc<State>, id: Identity) -> Result<Response, UserError> {
    let user = users::find(&state.pool, id.user_id)
        .await?
        .ok_or_else(|| UserError::not_found("no such user"))?;
    Ok(json(StatusCode::OK, &user))
}
