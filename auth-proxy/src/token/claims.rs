//! The claims of an access token, checked strictly: every required claim present with
//! the right JSON type, `iss`/`aud` exact, and the time claims against a clock the caller
//! passes in (so tests move time instead of sleeping).

use http::HeaderValue;

use crate::decision::Reason;
use crate::json::{self, Json};

/// What a token must satisfy besides its signature.
#[derive(Clone, Debug)]
pub struct Rules {
    pub issuer: String,
    pub audience: String,
    /// Clock leeway, seconds, for `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// Longest accepted `exp - iat`, seconds (the issuer's maximum is 900).
    pub max_lifetime: u64,
}

/// The identity a valid token carries, with the response headers built once so a cache
/// hit copies reference-counted values instead of formatting strings.
#[derive(Debug)]
pub struct Verified {
    pub sub: String,
    pub roles: Vec<String>,
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    pub headers: IdentityHeaders,
}

#[derive(Debug)]
pub struct IdentityHeaders {
    pub user_id: HeaderValue,
    pub roles: HeaderValue,
    pub token_id: HeaderValue,
    pub expires: HeaderValue,
}

const MAX_ROLES: usize = 32;

// === impl Verified ===

impl Verified {
    /// True while `now` is before `exp` plus the leeway.
    pub fn is_live(&self, now: u64, leeway: u64) -> bool {
        now < self.exp.saturating_add(leeway)
    }

    pub fn has_any_role(&self, wanted: &[String]) -> bool {
        self.roles.iter().any(|r| wanted.contains(r))
    }
}

/// Role names: what may sit in a comma-separated header and a policy file.
pub fn valid_role(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// `sub` and `jti` become header values and log fields: a conservative alphabet.
fn valid_identifier(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'.' | b':' | b'@' | b'+' | b'/' | b'=')
        })
}

/// Decodes and validates the claims of a token whose signature has been checked.
pub fn validate(payload_b64: &str, rules: &Rules, now: u64) -> Result<Verified, Reason> {
    let members = super::decode_object(payload_b64, Reason::BadClaims)?;
    let get = |k: &str| json::get(&members, k);

    // Types first: a claim of the wrong type is refused, never ignored.
    let iss = get("iss").and_then(Json::as_str).ok_or(Reason::BadClaims)?;
    let aud_ok = match get("aud").ok_or(Reason::BadClaims)? {
        Json::String(a) => a == &rules.audience,
        Json::Array(items) if !items.is_empty() => {
            let mut found = false;
            for item in items {
                let a = item.as_str().ok_or(Reason::BadClaims)?;
                found |= a == rules.audience;
            }
            found
        }
        _ => return Err(Reason::BadClaims),
    };
    let sub = get("sub")
        .and_then(Json::as_str)
        .filter(|s| valid_identifier(s))
        .ok_or(Reason::BadClaims)?;
    let jti = get("jti")
        .and_then(Json::as_str)
        .filter(|s| valid_identifier(s))
        .ok_or(Reason::BadClaims)?;
    let iat = get("iat").and_then(Json::as_u64).ok_or(Reason::BadClaims)?;
    let exp = get("exp").and_then(Json::as_u64).ok_or(Reason::BadClaims)?;
    let nbf = match get("nbf") {
        None => None,
        Some(v) => Some(v.as_u64().ok_or(Reason::BadClaims)?),
    };
    let roles = match get("roles") {
        None => Vec::new(),
        Some(Json::Array(items)) if items.len() <= MAX_ROLES => items
            .iter()
            .map(|r| match r.as_str() {
                Some(s) if valid_role(s) => Ok(s.to_owned()),
                _ => Err(Reason::BadClaims),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(Reason::BadClaims),
    };

    if iss != rules.issuer {
        return Err(Reason::BadIssuer);
    }
    if !aud_ok {
        return Err(Reason::BadAudience);
    }
    if exp <= iat {
        return Err(Reason::BadClaims);
    }
    if exp - iat > rules.max_lifetime.saturating_add(rules.leeway) {
        return Err(Reason::LifetimeTooLong);
    }
    if iat > now.saturating_add(rules.leeway) {
        return Err(Reason::IssuedInFuture);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(rules.leeway)) {
        return Err(Reason::NotYetValid);
    }
    if now >= exp.saturating_add(rules.leeway) {
        return Err(Reason::Expired);
    }

    let header = |s: &str| HeaderValue::from_str(s).map_err(|_| Reason::BadClaims);
    let headers = IdentityHeaders {
        user_id: header(sub)?,
        roles: header(&roles.join(","))?,
        token_id: header(jti)?,
        expires: HeaderValue::from(exp),
    };
    Ok(Verified {
        sub: sub.to_owned(),
        roles,
        jti: jti.to_owned(),
        iat,
        exp,
        headers,
    })
}

#[cfg(test)]
#[path = "claims_tests.rs"]
mod tests;
