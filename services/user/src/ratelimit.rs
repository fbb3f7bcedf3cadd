//! The login limit: failed logins per email within a window, counted in Redis (so every
//! copy of the service shares it). Keys hold a hash of the email, never the address.

use mall_common::cache::Redis;
use sha2::{Digest, Sha256};

use crate::domain::Email;

#[derive(Clone)]
pub struct LoginLimit {
    pub redis: Redis,
    pub max_failures: u32,
    pub window_secs: u64,
}

impl LoginLimit {
    fn key(&self, email: &str) -> String {
        let digest = Sha256::digest(email.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.redis.key(&format!("login:fail:{hex}"))
    }

    /// `Some(retry_after_secs)` when the email is locked out. Redis trouble never locks
    /// anyone out (nginx's limit_req still bounds the rate); it is logged.
    pub async fn locked(&self, email: &str) -> Option<u64> {
        let key = self.key(email);
        let mut conn = self.redis.conn();
        let result: Result<(Option<u32>, i64), _> = redis::pipe()
            .get(&key)
            .ttl(&key)
            .query_async(&mut conn)
            .await;
        match result {
            Ok((Some(n), ttl)) if n >= self.max_failures => {
                Some(u64::try_from(ttl).unwrap_or(self.window_secs).max(1))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "login limit unavailable (Redis); not limiting");
                None
            }
        }
    }

    pub async fn record_failure(&self, email: &str) {
        let key = self.key(email);
        let mut conn = self.redis.conn();
        let result: Result<(), _> = redis::pipe()
            .incr(&key, 1)
            .ignore()
            .cmd("EXPIRE")
            .arg(&key)
            .arg(self.window_secs)
            .arg("NX")
            .ignore()
            .query_async(&mut conn)
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot record a failed login (Redis)");
        }
    }

    pub async fn reset(&self, email: &Email) {
        let key = self.key(email.as_str());
        let mut conn = self.redis.conn();
        if let Err(e) = redis::cmd("DEL")
            .arg(&key)
            .query_async::<()>(&mut conn)
            .await
        {
            tracing::warn!(error = %e, "cannot reset the failed-login counter (Redis)");
        }
    }
}
