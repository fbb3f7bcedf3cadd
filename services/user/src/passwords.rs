//! Password hashing with Argon2id (the crate's defaults: 19 MiB, 2 passes). Hashing runs on
//! the blocking pool, at most one hash per CPU at a time (`HASHING`): each hash takes 19 MiB,
//! and without a bound a burst of sign-ins would start up to 512 blocking threads at once
//! (tokio's default), each allocating its own 19 MiB. (`scripts/bench mix` found the user
//! service at 1.2 GB RSS after 200 sign-ins, four at a time: glibc keeps a freed block of
//! that size in every thread's arena.) Waiting for a permit costs nothing more than the CPU
//! the hash needs anyway. Unknown emails are checked against a dummy hash made at start-up so
//! a wrong email and a wrong password take the same time.

use std::sync::{Arc, LazyLock};

use anyhow::Context as _;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use secrecy::{ExposeSecret, SecretString};

/// Hashes running at once: one per CPU.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Runs one hash on the blocking pool once a permit is free.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let _permit = HASHING
        .acquire()
        .await
        .context("the hashing semaphore is closed")?;
    tokio::task::spawn_blocking(work)
        .await
        .context("a password hash task failed")?
}

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
        let ok = bounded(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok(Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok())
        })
        .await
        .context("while verifying a password")?;
        Ok(ok && real)
    }
}

/// A PHC-format Argon2id hash of `password`.
pub async fn hash(password: SecretString) -> anyhow::Result<String> {
    bounded(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("while hashing a password: {e}"))
    })
    .await
}
