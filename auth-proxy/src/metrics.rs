//! Prometheus metrics, one registry per running proxy (tests run several in a process).
//! The per-reason decision counters are resolved once at start, so the hot path does no
//! label lookups.

use prometheus::{
    Encoder, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::decision::Reason;

pub struct Metrics {
    registry: Registry,
    decisions: Vec<IntCounter>,
    pub decision_seconds: Histogram,
    pub cache_hits: IntCounter,
    pub cache_misses: IntCounter,
    pub key_set_age_seconds: Gauge,
    pub keys_loaded: IntGauge,
    pub key_refresh_errors: IntCounter,
    pub denylist_size: IntGauge,
    pub redis_connected: IntGauge,
    pub policy_rules: IntGauge,
    pub policy_reload_errors: IntCounter,
}

// === impl Metrics ===

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let decisions_vec = IntCounterVec::new(
            Opts::new(
                "auth_decisions_total",
                "Auth decisions by result and reason.",
            ),
            &["result", "reason"],
        )?;
        registry.register(Box::new(decisions_vec.clone()))?;
        let decisions = Reason::ALL
            .iter()
            .map(|r| decisions_vec.with_label_values(&[r.verdict().label(), r.label()]))
            .collect();
        let decision_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "auth_decision_duration_seconds",
                "Time to reach a decision, from request to answer.",
            )
            .buckets(vec![
                0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05,
                0.25, 1.0,
            ]),
        )?;
        registry.register(Box::new(decision_seconds.clone()))?;
        let counter = |name: &str, help: &str| -> anyhow::Result<IntCounter> {
            let c = IntCounter::new(name, help)?;
            registry.register(Box::new(c.clone()))?;
            Ok(c)
        };
        let gauge = |name: &str, help: &str| -> anyhow::Result<IntGauge> {
            let g = IntGauge::new(name, help)?;
            registry.register(Box::new(g.clone()))?;
            Ok(g)
        };
        let key_set_age_seconds = Gauge::new(
            "auth_key_set_age_seconds",
            "Seconds since the key set was last confirmed by its source (-1: never).",
        )?;
        registry.register(Box::new(key_set_age_seconds.clone()))?;
        Ok(Self {
            decisions,
            decision_seconds,
            cache_hits: counter("auth_token_cache_hits_total", "Verified-token cache hits.")?,
            cache_misses: counter(
                "auth_token_cache_misses_total",
                "Verified-token cache misses.",
            )?,
            key_set_age_seconds,
            keys_loaded: gauge("auth_keys_loaded", "Verification keys currently loaded.")?,
            key_refresh_errors: counter(
                "auth_key_refresh_errors_total",
                "Key refreshes where no JWKS URL gave a usable key (last-known keys kept).",
            )?,
            denylist_size: gauge(
                "auth_denylist_size",
                "Revocation entries held in memory (jti and user).",
            )?,
            redis_connected: gauge(
                "auth_redis_connected",
                "1 while the revocation feed from Redis is connected.",
            )?,
            policy_rules: gauge("auth_policy_rules", "Rules in the active policy.")?,
            policy_reload_errors: counter(
                "auth_policy_reload_errors_total",
                "Policy reloads refused because the file was broken.",
            )?,
            registry,
        })
    }

    pub fn decision(&self, reason: Reason) {
        if let Some(c) = self.decisions.get(reason.index()) {
            c.inc();
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4096);
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}
