//! The proxy's state and the decision itself: normalise the path, find the rule, and for
//! a protected route check the bearer token (cache, or full verification), the denylist
//! and the roles. One log line per denial (and per allow at debug level).

mod decide;
mod log_line;

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use http::HeaderValue;
use mall_runtime::trace::TraceId;
use tracing::Instrument;

use crate::cache::TokenCache;
use crate::config::Config;
use crate::decision::Reason;
use crate::keys::store::{KeyStore, Source};
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::revocation::{Denylist, Feed};
use crate::token::{Rules, Verified};
use log_line::log_decision;

pub use log_line::redact_path;

/// Configuration that cannot work (the runtime's `BadConfig`): `launch` exits 64 on it.
pub use mall_runtime::config::BadConfig as ConfigError;

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

/// The answer to one auth subrequest.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A public route: answered without looking at the token.
    Public,
    /// A valid, unrevoked token allowed by the matched rule.
    Allowed(Arc<Verified>),
    Denied(Reason),
}

// === impl Outcome ===

impl Outcome {
    pub fn reason(&self) -> Reason {
        match self {
            Outcome::Public => Reason::Public,
            Outcome::Allowed(_) => Reason::Token,
            Outcome::Denied(r) => *r,
        }
    }
}

/// An outcome plus what the log line needs.
#[derive(Debug)]
pub struct Decision {
    pub outcome: Outcome,
    pub route: Option<Arc<str>>,
    /// The token's identity when it was verified (also on a later denial).
    pub who: Option<Arc<Verified>>,
    /// For [`Reason::MethodNotAllowed`](crate::decision::Reason::MethodNotAllowed): the
    /// route's methods (`Allow`).
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
}

#[cfg(test)]
mod tests;
