//! The HTTP client for calls between services: a base URL, timeouts, and the current
//! request's `X-Trace-Id` on every call so the next hop logs under the same id.

use std::time::Duration;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use serde::Serialize;

use mall_runtime::trace;

#[derive(Clone, Debug)]
pub struct ServiceClient {
    http: reqwest::Client,
    base: String,
}

impl ServiceClient {
    pub fn new(base_url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .context("while building the HTTP client")?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// A request to `path` carrying the current trace id (if this task serves a request).
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
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
