//! The caller's identity as nginx copied it from auth-proxy's decision (`X-User-Id`,
//! `X-User-Roles`, `X-Token-Id`, `X-Token-Expires`), and the filters that require it or a
//! role.

use http::StatusCode;
use warp::{Filter, Rejection};

use super::BadRequest;

/// Who is calling, as auth-proxy decided and nginx copied (clients cannot set these
/// headers: nginx always overwrites them, and services listen only where nginx reaches).
#[derive(Clone, Debug)]
pub struct Identity {
    pub user_id: u64,
    pub roles: Vec<String>,
    pub token_id: Option<String>,
    pub token_expires: Option<i64>,
}

impl Identity {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The caller's identity; 401 when nginx sent none (defence in depth: the policy already
/// requires a token on these routes).
pub fn identity() -> impl Filter<Extract = (Identity,), Error = Rejection> + Clone {
    warp::header::headers_cloned().and_then(|h: http::HeaderMap| async move {
        let get = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let user_id = get("x-user-id")
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|id| *id > 0);
        let Some(user_id) = user_id else {
            return Err(warp::reject::custom(BadRequest::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in to continue",
            )));
        };
        tracing::Span::current().record("user_id", user_id);
        Ok(Identity {
            user_id,
            roles: get("x-user-roles")
                .map(|r| {
                    r.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            token_id: get("x-token-id").map(str::to_owned),
            token_expires: get("x-token-expires").and_then(|v| v.parse().ok()),
        })
    })
}

/// The identity, which must hold `role` (403 otherwise).
pub fn require_role(
    role: &'static str,
) -> impl Filter<Extract = (Identity,), Error = Rejection> + Clone {
    identity().and_then(move |id: Identity| async move {
        if id.has_role(role) {
            Ok(id)
        } else {
            Err(warp::reject::custom(BadRequest::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "you are not allowed to do this",
            )))
        }
    })
}
