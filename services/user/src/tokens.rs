//! Access tokens (EdDSA JWTs with `kid`) and opaque refresh tokens (random, stored only as
//! a SHA-256 hash).

use base64::Engine as _;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::keys::KeySet;

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: String,
    roles: &'a [String],
    jti: &'a str,
    iat: i64,
    exp: i64,
}

/// What the issuer stamps into every access token.
pub struct Issuer {
    pub iss: String,
    pub aud: String,
    pub ttl_secs: u64,
}

/// A signed access token and what was put in it.
pub struct AccessToken {
    pub token: String,
    pub exp: i64,
}

impl Issuer {
    pub fn issue(
        &self,
        keys: &KeySet,
        user_id: u64,
        roles: &[String],
        now: i64,
        jti: &str,
    ) -> anyhow::Result<AccessToken> {
        let exp = now + i64::try_from(self.ttl_secs)?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(keys.kid.clone());
        let claims = Claims {
            iss: &self.iss,
            aud: &self.aud,
            sub: user_id.to_string(),
            roles,
            jti,
            iat: now,
            exp,
        };
        let token = jsonwebtoken::encode(&header, &claims, &keys.signing)
            .map_err(|e| anyhow::anyhow!("while signing an access token: {e}"))?;
        Ok(AccessToken { token, exp })
    }
}

/// A new refresh token: 32 random bytes, base64url.
pub fn new_refresh_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a refresh token.
pub fn refresh_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_and_hash_stably() {
        let a = new_refresh_token().expect("token");
        let b = new_refresh_token().expect("token");
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(refresh_hash(&a), refresh_hash(&a));
        assert_eq!(refresh_hash(&a).len(), 64);
    }
}
