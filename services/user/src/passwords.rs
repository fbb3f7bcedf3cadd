//! Password hashing with Argon2id (the crate's defaults: 19 MiB, 2 passes). Hashing runs on
//! the blocking pool. Unknown emails are checked against a dummy hash made at start-up so
//! a wrong email and a wrong password take the same time.

use std::sync::Arc;

use anyhow::Context as _;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct Passwords {
    dummy_hash: Arc<str>,
}

impl Passwords {
    pub async fn new() -> anyhow::Result<Self> {
        let dummy = hash(SecretString::from(uuid::Uuid::new_v4().to_string())).await?;
        Ok(Self {
            dummy_hash: dummy.into(),
        })
    }

    /// True when `password` matches `stored`; with no stored hash, spends the same time on
    /// the dummy hash and answers false.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> anyhow::Result<bool> {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (self.dummy_hash.to_string(), false),
        };
        let ok = tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok::<_, anyhow::Error>(
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await
        .context("while verifying a password")??;
        Ok(ok && real)
    }
}

/// A PHC-format Argon2id hash of `password`.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("while hashing a password: {e}"))
    })
    .await
    .context("while hashing a password")?
}
