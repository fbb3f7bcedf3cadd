//! The HTTP client for calls between services: where the callee is, timeouts, and the
//! current request's `X-Trace-Id` on every call so the next hop logs under the same id.
//!
//! Where the callee is ([`Target`]): one base URL (nginx's internal listener, a Kubernetes
//! Service), or the callee's two slots, called directly, with the live one read per call
//! from the marker the blue/green switch writes for nginx (`<markers>/<part>.green`
//! exists: green, else blue; docs/runtime.md "Internal calls"). The caller then follows a
//! switch from the same state as nginx, without the nginx hop. The marker is looked up
//! again at most [`MARKER_CACHE`] after the last lookup, not on every call: on compose's
//! FUSE-backed container root a path lookup per call was a round trip to the FUSE daemon
//! per path component, and queued behind the health checks' (docs/performance.md). The
//! switch waits longer than that (and than nginx's own 1 s) before it counts on a marker.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use mall_runtime::trace;

/// How long a caller goes on calling the slot it last read from the marker. The switch
/// waits 1.2 s after writing a marker (tools/mall, `stack::nginx::MARKER_CACHE` + 200 ms).
pub const MARKER_CACHE: Duration = Duration::from_millis(500);

/// Where a callee is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One base URL.
    One(String),
    /// Both slots' base URLs; green is live while `marker` exists.
    Slots {
        blue: String,
        green: String,
        marker: Marker,
    },
}

/// The switch's marker of the callee, and what this process last read of it (shared by
/// the clones of a client).
#[derive(Clone, Debug)]
pub struct Marker {
    path: PathBuf,
    valid: Duration,
    seen: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl PartialEq for Marker {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for Marker {}

impl Marker {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            valid: MARKER_CACHE,
            seen: Arc::default(),
        }
    }

    /// Whether the marker exists: as last read, if that was less than `valid` ago.
    fn green(&self) -> bool {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        match *seen {
            Some((at, green)) if now.saturating_duration_since(at) < self.valid => green,
            _ => {
                let green = self.path.exists();
                *seen = Some((now, green));
                green
            }
        }
    }
}

impl Target {
    /// `spec` is one http(s) base URL, or two separated by a comma (blue's, then green's),
    /// which need the directory of the switch's markers; `part` names the callee's marker.
    pub fn parse(part: &str, spec: &str, markers: Option<&Path>) -> Result<Self, String> {
        let url = |u: &str| {
            let u = u.trim();
            if u.starts_with("http://") || u.starts_with("https://") {
                Ok(u.trim_end_matches('/').to_owned())
            } else {
                Err(format!("{u:?} (the {part} service) is not an http(s) URL"))
            }
        };
        match spec.split_once(',') {
            None => Ok(Self::One(url(spec)?)),
            Some((blue, green)) => {
                let dir = markers.ok_or_else(|| {
                    format!(
                        "the {part} service's two slots need SLOT_MARKERS, the switch's markers"
                    )
                })?;
                Ok(Self::Slots {
                    blue: url(blue)?,
                    green: url(green)?,
                    marker: Marker::new(dir.join(format!("{part}.green"))),
                })
            }
        }
    }

    /// The base URL to call now.
    fn base(&self) -> &str {
        match self {
            Self::One(base) => base,
            Self::Slots {
                blue,
                green,
                marker,
            } => {
                if marker.green() {
                    green
                } else {
                    blue
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct ServiceClient {
    http: reqwest::Client,
    target: Target,
}

impl ServiceClient {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        Self::to(
            Target::One(base_url.trim_end_matches('/').to_owned()),
            timeout,
        )
    }

    pub fn to(target: Target, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .context("while building the HTTP client")?;
        Ok(Self { http, target })
    }

    /// A request to `path` on the callee's live slot, carrying the current trace id (if
    /// this task serves a request).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self
            .http
            .request(method, format!("{}{path}", self.target.base()));
        match trace::current() {
            Some(id) => builder.header(trace::HEADER, id.as_str()),
            None => builder,
        }
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let resp = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .with_context(|| format!("while calling GET {path}"))?;
        Self::decode(resp, path).await
    }

    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> anyhow::Result<T> {
        let resp = self
            .request(reqwest::Method::POST, path)
            .json(body)
            .send()
            .await
            .with_context(|| format!("while calling POST {path}"))?;
        Self::decode(resp, path).await
    }

    /// Sends a request without a body; any answer but 2xx is an error naming the call.
    pub async fn send_ok(&self, method: reqwest::Method, path: &str) -> anyhow::Result<()> {
        let resp = self
            .request(method.clone(), path)
            .send()
            .await
            .with_context(|| format!("while calling {method} {path}"))?;
        let status = resp.status();
        anyhow::ensure!(status.is_success(), "{method} {path} answered {status}");
        Ok(())
    }

    /// A 2xx answer's JSON as `T`; any other status is an error naming `what` (the path).
    pub async fn decode<T: DeserializeOwned>(
        resp: reqwest::Response,
        what: &str,
    ) -> anyhow::Result<T> {
        let status = resp.status();
        if !status.is_success() {
            anyhow::bail!("{what} answered {status}");
        }
        resp.json()
            .await
            .with_context(|| format!("while decoding the answer of {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_url_is_called_as_it_is() {
        let t = Target::parse("product", "http://nginx:8081/", None).unwrap();
        assert_eq!(t, Target::One("http://nginx:8081".into()));
        assert_eq!(t.base(), "http://nginx:8081");
    }

    /// `t` with its marker looked up on every call.
    fn uncached(t: Target) -> Target {
        match t {
            Target::Slots {
                blue,
                green,
                mut marker,
            } => {
                marker.valid = Duration::ZERO;
                Target::Slots {
                    blue,
                    green,
                    marker,
                }
            }
            one => one,
        }
    }

    #[test]
    fn two_slots_follow_the_switch_marker() {
        let dir = std::env::temp_dir().join(format!("mall-markers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = uncached(Target::parse("cart", "http://a:1, http://b:2", Some(&dir)).unwrap());
        assert_eq!(t.base(), "http://a:1", "no marker: blue");
        std::fs::write(dir.join("cart.green"), "live slot of cart: green").unwrap();
        assert_eq!(t.base(), "http://b:2", "marker: green");
        std::fs::write(dir.join("product.green"), "").unwrap();
        std::fs::remove_file(dir.join("cart.green")).unwrap();
        assert_eq!(
            t.base(),
            "http://a:1",
            "another part's marker is not this one's"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_switch_is_seen_within_the_marker_cache() {
        let dir = std::env::temp_dir().join(format!("mall-markers-c-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t = Target::parse("order", "http://a:1,http://b:2", Some(&dir)).unwrap();
        let copy = t.clone();
        let read = Instant::now();
        assert_eq!(t.base(), "http://a:1");
        std::fs::write(dir.join("order.green"), "").unwrap();
        let cached = copy.base();
        if read.elapsed() < MARKER_CACHE {
            assert_eq!(cached, "http://a:1", "the clones share the last read");
        }
        std::thread::sleep(MARKER_CACHE.saturating_sub(read.elapsed()));
        assert_eq!(copy.base(), "http://b:2", "seen within {MARKER_CACHE:?}");
        assert_eq!(t.base(), "http://b:2");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_targets_are_refused_with_the_part_named() {
        let e = Target::parse("payment", "http://a:1,http://b:2", None).unwrap_err();
        assert!(e.contains("payment") && e.contains("SLOT_MARKERS"), "{e}");
        let e = Target::parse("user", "ftp://a", None).unwrap_err();
        assert!(
            e.contains("user") && e.contains("not an http(s) URL"),
            "{e}"
        );
        let dir = Path::new("/m");
        assert!(Target::parse("user", "http://a:1,nope", Some(dir)).is_err());
    }
}
