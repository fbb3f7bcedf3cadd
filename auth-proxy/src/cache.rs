//! The verified-token cache: bounded, keyed by the SHA-256 of the token (so the cache
//! never holds a usable token and its memory does not grow with token size), each entry
//! expiring when its token does. Revocation is not cached: callers check the denylist on
//! every request, hit or miss.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;
use sha2::{Digest, Sha256};

use crate::token::Verified;

pub type CacheKey = [u8; 32];

pub struct TokenCache {
    inner: Cache<CacheKey, Arc<Verified>>,
    leeway: u64,
}

/// Per-entry expiry: until the token's `exp + leeway`, measured from insertion.
struct UntilExpiry {
    leeway: u64,
}

impl Expiry<CacheKey, Arc<Verified>> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<Verified>,
        _created_at: Instant,
    ) -> Option<Duration> {
        let until = value.exp.saturating_add(self.leeway);
        Some(Duration::from_secs(
            until.saturating_sub(crate::revocation::now_secs()),
        ))
    }
}

// === impl TokenCache ===

impl TokenCache {
    pub fn new(capacity: u64, leeway: u64) -> Self {
        Self {
            inner: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilExpiry { leeway })
                .build(),
            leeway,
        }
    }

    pub fn key(token: &[u8]) -> CacheKey {
        Sha256::digest(token).into()
    }

    /// A cached identity still live at `now` (the expiry check is repeated here so an
    /// entry can never outlive its token, whatever the cache's own timer granularity).
    pub fn get(&self, key: &CacheKey, now: u64) -> Option<Arc<Verified>> {
        self.inner.get(key).filter(|v| v.is_live(now, self.leeway))
    }

    pub fn insert(&self, key: CacheKey, value: Arc<Verified>) {
        self.inner.insert(key, value);
    }

    pub fn entry_count(&self) -> u64 {
        self.inner.run_pending_tasks();
        self.inner.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::claims::IdentityHeaders;
    use http::HeaderValue;

    fn verified(exp: u64) -> Arc<Verified> {
        Arc::new(Verified {
            sub: "1".into(),
            roles: vec![],
            jti: "j".into(),
            iat: exp - 10,
            exp,
            headers: IdentityHeaders {
                user_id: HeaderValue::from_static("1"),
                roles: HeaderValue::from_static(""),
                token_id: HeaderValue::from_static("j"),
                expires: HeaderValue::from(exp),
            },
        })
    }

    #[test]
    fn hit_until_expiry() {
        let now = crate::revocation::now_secs();
        let cache = TokenCache::new(10, 5);
        let k = TokenCache::key(b"a.b.c");
        cache.insert(k, verified(now + 60));
        assert!(cache.get(&k, now).is_some());
        assert!(cache.get(&TokenCache::key(b"a.b.d"), now).is_none());
        assert!(cache.get(&k, now + 65).is_none(), "never past exp + leeway");
    }

    #[test]
    fn expired_entries_vanish() {
        let now = crate::revocation::now_secs();
        let cache = TokenCache::new(10, 0);
        let k = TokenCache::key(b"x");
        cache.insert(k, verified(now));
        assert!(cache.inner.get(&k).is_none(), "zero time to live");
    }

    #[test]
    fn is_bounded() {
        let now = crate::revocation::now_secs();
        let cache = TokenCache::new(50, 5);
        for i in 0..500u32 {
            cache.insert(TokenCache::key(&i.to_be_bytes()), verified(now + 600));
        }
        assert!(cache.entry_count() <= 50);
    }
}
