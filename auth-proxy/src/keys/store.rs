//! The live key set: a lock-free snapshot read on every cache miss, replaced whole by the
//! refresher.
//!
//! JWKS: every URL is fetched concurrently and the keys of those that answer are merged
//! (both user-service slots, so a blue/green switch never leaves the proxy without keys).
//! When no URL answers, or all answer with no usable key, the last-known set stays. An
//! unknown `kid` triggers a refetch, at most one per `unknown_kid_interval`; concurrent
//! requests wait for that one fetch instead of starting their own.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use futures_util::future::join_all;
use mall_runtime::trace::TraceId;
use tokio::sync::Mutex;

use super::{load_pem_file, parse_jwks, Key, KeyMap};
use crate::metrics::Metrics;

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Where keys come from.
#[derive(Clone, Debug)]
pub enum Source {
    Jwks(Vec<String>),
    Files(Vec<PathBuf>),
}

/// An immutable key set and when it was last confirmed by its source.
#[derive(Default)]
pub struct Snapshot {
    pub keys: KeyMap,
    pub refreshed_at: Option<Instant>,
}

pub struct KeyStore {
    current: ArcSwap<Snapshot>,
    source: Source,
    client: reqwest::Client,
    /// When the last unknown-kid refetch started; the async lock makes it single-flight.
    refetch_gate: Mutex<Option<Instant>>,
    unknown_kid_interval: Duration,
    metrics: Arc<Metrics>,
}

// === impl KeyStore ===

impl KeyStore {
    pub fn new(
        source: Source,
        fetch_timeout: Duration,
        unknown_kid_interval: Duration,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(fetch_timeout)
            .connect_timeout(fetch_timeout)
            .no_proxy()
            .build()
            .map_err(|e| anyhow::anyhow!("while building the JWKS client: {e}"))?;
        Ok(Self {
            current: ArcSwap::from_pointee(Snapshot::default()),
            source,
            client,
            refetch_gate: Mutex::new(None),
            unknown_kid_interval,
            metrics,
        })
    }

    pub fn get(&self, kid: &str) -> Option<Arc<Key>> {
        self.current.load().keys.get(kid).cloned()
    }

    pub fn len(&self) -> usize {
        self.current.load().keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Seconds since the key set was last confirmed by its source.
    pub fn age(&self) -> Option<Duration> {
        self.current.load().refreshed_at.map(|t| t.elapsed())
    }

    pub fn is_static(&self) -> bool {
        matches!(self.source, Source::Files(_))
    }

    /// Reads the static key files; all must load, or the current set stays.
    pub fn load_files(&self) -> Result<usize, String> {
        let Source::Files(paths) = &self.source else {
            return Ok(self.len());
        };
        let mut keys = KeyMap::new();
        for path in paths {
            let key = load_pem_file(path)?;
            if keys.contains_key(&key.kid) {
                return Err(format!("two key files share the kid {:?}", key.kid));
            }
            keys.insert(key.kid.clone(), Arc::new(key));
        }
        let n = keys.len();
        self.install(keys);
        Ok(n)
    }

    fn install(&self, keys: KeyMap) {
        self.metrics.keys_loaded.set(keys.len() as i64);
        self.current.store(Arc::new(Snapshot {
            keys,
            refreshed_at: Some(Instant::now()),
        }));
    }

    /// Fetches every JWKS URL and installs the merged keys when at least one answered
    /// with a usable key. Returns the number of keys now installed.
    pub async fn refresh(&self, trace: Option<&TraceId>) -> anyhow::Result<usize> {
        let urls = match &self.source {
            Source::Files(_) => return Ok(self.len()),
            Source::Jwks(urls) => urls,
        };
        let results = join_all(urls.iter().map(|u| self.fetch(u, trace))).await;
        let mut merged = KeyMap::new();
        let mut failures = Vec::new();
        for (url, result) in urls.iter().zip(results) {
            match result {
                Ok(keys) => {
                    for key in keys {
                        merged
                            .entry(key.kid.clone())
                            .or_insert_with(|| Arc::new(key));
                    }
                }
                Err(e) => failures.push((url, e)),
            }
        }
        if merged.is_empty() {
            // Nothing usable anywhere: this is the failure operators need to see.
            self.metrics.key_refresh_errors.inc();
            for (url, e) in &failures {
                tracing::warn!(url = %url, error = %e, "JWKS fetch failed");
            }
            anyhow::bail!(
                "no JWKS answered with a usable key ({} of {} failed); keeping the last-known keys",
                failures.len(),
                urls.len()
            );
        }
        // Another URL answered (typically the idle user slot is down): not worth a warning.
        for (url, e) in &failures {
            tracing::debug!(url = %url, error = %e, "JWKS fetch failed; other URLs answered");
        }
        let n = merged.len();
        let changed = {
            let cur = self.current.load();
            cur.keys.len() != n || merged.keys().any(|k| !cur.keys.contains_key(k))
        };
        self.install(merged);
        if changed {
            tracing::info!(keys = n, "installed JWKS key set");
        }
        Ok(n)
    }

    async fn fetch(&self, url: &str, trace: Option<&TraceId>) -> Result<Vec<Key>, String> {
        let mut req = self.client.get(url);
        if let Some(t) = trace {
            req = req.header(mall_runtime::trace::HEADER, t.as_str());
        }
        let mut resp = req.send().await.map_err(|e| format!("request: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("status {}", resp.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| format!("body: {e}"))? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err("JWKS document too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        let (keys, skipped) = parse_jwks(&body)?;
        for why in skipped {
            tracing::warn!(url = %url, reason = %why, "skipped a JWKS key");
        }
        Ok(keys)
    }

    /// After an unknown `kid`: refetch unless one started within the interval. Callers
    /// queue on the gate, so a burst of unknown kids costs one fetch.
    pub async fn refetch_for_unknown_kid(&self, trace: Option<&TraceId>) {
        if self.is_static() {
            return;
        }
        let mut last = self.refetch_gate.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.unknown_kid_interval) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = self.refresh(trace).await {
            tracing::warn!(error = %e, "refetch after an unknown kid failed");
        }
    }

    /// The background refresher: quickly until the first keys arrive, then every
    /// `every`.
    pub async fn refresh_loop(self: Arc<Self>, every: Duration) {
        let mut wait = Duration::from_millis(200);
        loop {
            let ok = self.refresh(None).await.is_ok();
            let next = if ok || !self.is_empty() {
                wait = Duration::from_millis(200);
                every
            } else {
                wait = (wait * 2).min(every).min(Duration::from_secs(5));
                wait
            };
            tokio::time::sleep(next).await;
        }
    }
}
