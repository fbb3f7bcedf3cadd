//! The proxy's state and the decision itself: normalise the path, find the rule, and for
//! a protected route check the bearer token (cache, or full verification), the denylist
//! and the roles. One log line per denial (and per allow at debug level).

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use http::HeaderValue;
use mall_common::trace::TraceId;
use tracing::Instrument;

use crate::cache::TokenCache;
use crate::config::Config;
use crate::decision::{Outcome, Reason};
use crate::keys::store::{KeyStore, Source};
use crate::metrics::Metrics;
use crate::path;
use crate::policy::{Access, Policy};
use crate::revocation::{now_secs, Denylist, Feed};
use crate::token::{self, claims, Rules, Verified};

/// Configuration that cannot work; `main` exits 64 on it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// What nginx tells the proxy about the original request.
#[derive(Clone, Copy, Debug)]
pub struct AuthRequest<'a> {
    pub method: Option<&'a str>,
    pub uri: Option<&'a str>,
    pub authorization: Authorization<'a>,
}

#[derive(Clone, Copy, Debug)]
pub enum Authorization<'a> {
    Missing,
    One(&'a HeaderValue),
    /// More than one `Authorization` header: refused, never guessed between.
    Many,
}

/// An outcome plus what the log line needs.
#[derive(Debug)]
pub struct Decision {
    pub outcome: Outcome,
    pub route: Option<Arc<str>>,
    /// The token's identity when it was verified (also on a later denial).
    pub who: Option<Arc<Verified>>,
    /// For [`Reason::MethodNotAllowed`]: the route's methods (`Allow`).
    pub allow: Option<String>,
}

pub struct App {
    pub config: Config,
    policy: ArcSwap<Policy>,
    pub keys: Arc<KeyStore>,
    pub denylist: Arc<Denylist>,
    pub cache: TokenCache,
    pub metrics: Arc<Metrics>,
    pub feed: Feed,
    rules: Rules,
    pub served_by: HeaderValue,
}

// === impl App ===

impl App {
    /// Loads the policy and (static) keys; fails with [`ConfigError`] when either is
    /// unusable.
    pub fn new(config: Config) -> anyhow::Result<Arc<Self>> {
        let metrics = Arc::new(Metrics::new()?);
        let policy = Policy::load(&config.policy_file).map_err(|e| ConfigError(e.to_string()))?;
        metrics.policy_rules.set(policy.len() as i64);
        let source = if config.key_files.is_empty() {
            Source::Jwks(config.jwks_urls.clone())
        } else {
            Source::Files(config.key_files.clone())
        };
        let keys = Arc::new(KeyStore::new(
            source,
            config.jwks_timeout,
            config.unknown_kid_refetch,
            metrics.clone(),
        )?);
        keys.load_files().map_err(ConfigError)?;
        let client = redis::Client::open(config.redis_url.as_str())
            .map_err(|e| ConfigError(format!("REDIS_URL is not valid: {e}")))?;
        let feed = Feed {
            client,
            prefix: config.redis_prefix.clone(),
            resync_every: config.revocation_resync,
        };
        let served_by = HeaderValue::from_str(&config.info.served_by())
            .map_err(|_| ConfigError("SERVICE_VERSION is not a valid header value".into()))?;
        let rules = Rules {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config.leeway_secs,
            max_lifetime: config.max_token_lifetime_secs,
        };
        Ok(Arc::new(Self {
            denylist: Arc::new(Denylist::new(
                config.max_token_lifetime_secs,
                config.leeway_secs,
                metrics.clone(),
            )),
            cache: TokenCache::new(config.cache_capacity, config.leeway_secs),
            policy: ArcSwap::from_pointee(policy),
            keys,
            metrics,
            feed,
            rules,
            served_by,
            config,
        }))
    }

    /// Re-reads the policy file (and static key files) and swaps them in atomically; a
    /// broken file keeps what is active and says why.
    pub fn reload(&self) -> Result<(), String> {
        let result = match Policy::load(&self.config.policy_file) {
            Ok(p) => {
                let n = p.len();
                self.policy.store(Arc::new(p));
                self.metrics.policy_rules.set(n as i64);
                tracing::info!(rules = n, file = %self.config.policy_file.display(), "policy reloaded");
                Ok(())
            }
            Err(e) => {
                self.metrics.policy_reload_errors.inc();
                tracing::error!(error = %e, "policy reload refused; keeping the active policy");
                Err(e.to_string())
            }
        };
        if self.keys.is_static() {
            match self.keys.load_files() {
                Ok(n) => tracing::info!(keys = n, "static keys reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "static key reload refused; keeping the active keys");
                    return result.and(Err(e));
                }
            }
        }
        result
    }

    /// Ready once it has keys (the policy is loaded before the proxy starts).
    pub fn is_ready(&self) -> bool {
        !self.keys.is_empty() && !self.policy.load().is_empty()
    }

    pub fn policy_rules(&self) -> usize {
        self.policy.load().len()
    }

    /// Decides one auth subrequest, records the metrics and writes the log line.
    pub async fn check(&self, req: AuthRequest<'_>, trace: &TraceId) -> Decision {
        let started = Instant::now();
        // The request's span: every line written while deciding (the decision, and an
        // unknown-kid JWKS refetch) carries `trace_id` where the services put it.
        let span = tracing::info_span!("auth", trace_id = trace.as_str());
        let decision = self.decide(req, trace).instrument(span.clone()).await;
        let reason = decision.outcome.reason();
        self.metrics.decision(reason);
        self.metrics
            .decision_seconds
            .observe(started.elapsed().as_secs_f64());
        span.in_scope(|| log_decision(&req, &decision, reason, started));
        decision
    }

    async fn decide(&self, req: AuthRequest<'_>, trace: &TraceId) -> Decision {
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

/// One line per decision, allows included: support finds every request's decision by its
/// trace id. At info, an allow costs one JSON line (a few microseconds, docs/auth-proxy.md).
fn log_decision(req: &AuthRequest<'_>, decision: &Decision, reason: Reason, started: Instant) {
    let verdict = reason.verdict();
    let method = req.method.map(|m| truncate(m, 16)).unwrap_or("-");
    let user_id = decision.who.as_deref().map(|v| v.sub.as_str());
    let token_id = decision.who.as_deref().map(|v| v.jti.as_str());
    // No rule matched: the (redacted) path is what an operator needs to see.
    let path = match decision.route {
        Some(_) => None,
        None => req.uri.map(redact_path),
    };
    tracing::info!(
        method,
        route = decision.route.as_deref(),
        path,
        user_id,
        token_id,
        result = verdict.label(),
        reason = reason.label(),
        code = reason.code(),
        latency_us = started.elapsed().as_micros() as u64,
        "auth decision"
    );
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The path without query or fragment, long segments (where a pasted token would sit)
/// replaced, capped in length: a log line must never carry a token.
pub fn redact_path(uri: &str) -> String {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let mut out = String::with_capacity(end.min(200));
    for (i, seg) in uri[..end].split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.len() > 48 {
            out.push_str("[redacted]");
        } else {
            out.push_str(seg);
        }
        if out.len() > 200 {
            out.truncate(truncate(&out, 200).len());
            out.push_str("[…]");
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_drops_query_and_long_segments() {
        let token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl";
        assert_eq!(
            redact_path(&format!("/api/x?access_token={token}")),
            "/api/x"
        );
        assert_eq!(redact_path(&format!("/api/{token}/y")), "/api/[redacted]/y");
        let long = format!("/{}", "a/".repeat(300));
        assert!(redact_path(&long).len() < 220);
    }
}
