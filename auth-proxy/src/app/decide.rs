//! The decision itself: the rule for the normalised path and, on a protected route, the
//! bearer token (from the cache, or by full verification), the denylist and the roles.

use std::sync::Arc;

use mall_runtime::trace::TraceId;

use super::{App, AuthRequest, Authorization, Decision, Outcome};
use crate::cache::TokenCache;
use crate::decision::Reason;
use crate::path;
use crate::policy::Access;
use crate::revocation::now_secs;
use crate::token::{self, claims, Verified};

// === impl App ===

impl App {
    pub(super) async fn decide(&self, req: AuthRequest<'_>, trace: &TraceId) -> Decision {
        let deny = |reason, route, who| Decision {
            outcome: Outcome::Denied(reason),
            route,
            who,
            allow: None,
        };
        let (Some(method), Some(uri)) = (req.method, req.uri) else {
            return deny(Reason::MissingOriginal, None, None);
        };
        let Ok(path) = path::normalize(uri) else {
            return deny(Reason::BadPath, None, None);
        };
        let policy = self.policy.load_full();
        let Some(rule) = policy.find(method, &path) else {
            return match policy.allowed_methods(&path) {
                Some(allow) => Decision {
                    allow: Some(allow),
                    ..deny(Reason::MethodNotAllowed, None, None)
                },
                None => deny(Reason::NoRule, None, None),
            };
        };
        let route = Some(rule.pattern.clone());
        if *rule.access == Access::Public {
            return Decision {
                outcome: Outcome::Public,
                route,
                who: None,
                allow: None,
            };
        }
        let value = match req.authorization {
            Authorization::Missing => return deny(Reason::MissingToken, route, None),
            Authorization::Many => return deny(Reason::Malformed, route, None),
            Authorization::One(v) => v,
        };
        let Some(token) = token::bearer(value) else {
            return deny(Reason::MissingToken, route, None);
        };
        let now = now_secs();
        let verified = match self.verified(token, now, trace).await {
            Ok(v) => v,
            Err(reason) => return deny(reason, route, None),
        };
        if self
            .denylist
            .is_revoked(&verified.jti, &verified.sub, verified.iat)
        {
            return deny(Reason::Revoked, route, Some(verified));
        }
        if let Access::Roles(wanted) = rule.access {
            if !verified.has_any_role(wanted) {
                return deny(Reason::InsufficientRole, route, Some(verified));
            }
        }
        Decision {
            outcome: Outcome::Allowed(verified.clone()),
            route,
            who: Some(verified),
            allow: None,
        }
    }

    /// The token's identity, from the cache or by full verification (then cached).
    async fn verified(
        &self,
        token: &[u8],
        now: u64,
        trace: &TraceId,
    ) -> Result<Arc<Verified>, Reason> {
        if token.len() > self.config.max_token_bytes {
            return Err(Reason::TooLarge);
        }
        let key = TokenCache::key(token);
        if let Some(v) = self.cache.get(&key, now) {
            self.metrics.cache_hits.inc();
            return Ok(v);
        }
        self.metrics.cache_misses.inc();
        let compact = token::split(token, self.config.max_token_bytes)?;
        let header = token::header(&compact)?;
        let signing_key = match self.keys.get(&header.kid) {
            Some(k) => k,
            None => {
                self.keys.refetch_for_unknown_kid(Some(trace)).await;
                match self.keys.get(&header.kid) {
                    Some(k) => k,
                    None if self.keys.is_empty() => return Err(Reason::NoKeys),
                    None => return Err(Reason::UnknownKey),
                }
            }
        };
        token::verify_signature(&compact, &header, &signing_key)?;
        let verified = Arc::new(claims::validate(compact.payload, &self.rules, now)?);
        self.cache.insert(key, verified.clone());
        Ok(verified)
    }
}
