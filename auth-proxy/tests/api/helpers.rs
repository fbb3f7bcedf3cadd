//! The harness: a proxy started with `serve` on port 0, a tiny JWKS server standing in
//! for the user service, Ed25519 keys and hand-signed tokens, and a Redis key prefix of
//! its own per test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_proxy::{App, Config};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

// --- keys and tokens ---

pub struct TestKey {
    pub kid: String,
    pub signing: SigningKey,
}

impl TestKey {
    pub fn generate(kid: &str) -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("random seed");
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public_bytes(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP", "crv": "Ed25519", "x": b64(self.public_bytes()),
            "kid": self.kid, "alg": "EdDSA", "use": "sig"
        })
    }

    pub fn private_pem(&self) -> String {
        self.signing
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pkcs8 pem")
            .to_string()
    }

    pub fn public_pem(&self) -> String {
        self.signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("spki pem")
    }

    /// The issuer's header for this key.
    pub fn header(&self) -> String {
        json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid}).to_string()
    }

    /// Signs exactly these header and payload texts (so tests can craft anything).
    pub fn sign_raw(&self, header: &str, payload: &str) -> String {
        let input = format!("{}.{}", b64(header), b64(payload));
        let sig = self.signing.sign(input.as_bytes());
        format!("{input}.{}", b64(sig.to_bytes()))
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_raw(&self.header(), &claims.to_string())
    }

    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        self.sign(&claims(sub, roles))
    }
}

/// The claims the user service issues, valid now for 15 minutes.
pub fn claims(sub: &str, roles: &[&str]) -> Value {
    let now = now();
    json!({
        "iss": "mall", "aud": "mall-api", "sub": sub, "roles": roles,
        "jti": random_hex(16), "iat": now, "exp": now + 900
    })
}

// --- the JWKS server ---

#[derive(Default)]
struct JwksState {
    keys: Vec<Value>,
    hits: usize,
}

/// Serves `{"keys":[...]}` on every request, `Connection: close`, until stopped.
pub struct JwksServer {
    pub url: String,
    state: Arc<Mutex<JwksState>>,
    task: JoinHandle<()>,
}

impl JwksServer {
    pub async fn start(keys: Vec<Value>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind jwks");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(Mutex::new(JwksState { keys, hits: 0 }));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut read = 0;
                    while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf[read..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => read += n,
                        }
                        if read == buf.len() {
                            return;
                        }
                    }
                    let body = {
                        let mut s = state.lock().expect("state");
                        s.hits += 1;
                        json!({ "keys": s.keys }).to_string()
                    };
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(resp.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            url: format!("http://{addr}/.well-known/jwks.json"),
            state,
            task,
        }
    }

    pub fn set_keys(&self, keys: Vec<Value>) {
        self.state.lock().expect("state").keys = keys;
    }

    pub fn hits(&self) -> usize {
        self.state.lock().expect("state").hits
    }

    /// The issuer goes down: the listener closes, connections are refused.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A URL where nothing listens.
pub async fn dead_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/.well-known/jwks.json")
}

// --- the proxy ---

pub fn shipped_policy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policy.toml")
}

/// A config for tests: the shipped policy, this JWKS URL, a fresh Redis prefix.
pub fn config(jwks_url: &str) -> Config {
    let mut c = Config::local_defaults();
    c.jwks_urls = vec![jwks_url.to_owned()];
    c.policy_file = shipped_policy();
    c.redis_url = mall_testkit::redis_url();
    c.redis_prefix = format!("test:auth-proxy:{}:", random_hex(8));
    c.jwks_timeout = Duration::from_millis(500);
    c.shutdown_grace = Duration::from_secs(2);
    c
}

pub struct Proxy {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Proxy {
    pub async fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let app = App::new(config).expect("app starts");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(auth_proxy::server::serve(app.clone(), listener, async {
            let _ = rx.await;
        }));
        Self {
            addr,
            app,
            client: reqwest::Client::new(),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Starts and waits until `/ready` answers 200.
    pub async fn start_ready(config: Config) -> Self {
        let p = Self::start(config).await;
        p.wait_for(|| async { p.get("/ready").await.status() == 200 }, "ready")
            .await;
        p
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("proxy answers")
    }

    /// The auth subrequest as nginx sends it.
    pub async fn auth(&self, method: &str, uri: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self
            .client
            .get(self.url("/auth"))
            .header("X-Original-Method", method)
            .header("X-Original-URI", uri);
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        req.send().await.expect("proxy answers")
    }

    /// Status and `X-Auth-Error` of an auth subrequest.
    pub async fn status(&self, method: &str, uri: &str, token: Option<&str>) -> (u16, String) {
        let r = self.auth(method, uri, token).await;
        let code = r
            .headers()
            .get("x-auth-error")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        (r.status().as_u16(), code)
    }

    pub async fn metrics(&self) -> String {
        self.get("/metrics")
            .await
            .text()
            .await
            .expect("metrics body")
    }

    /// Polls `cond` every 25 ms for up to 5 s.
    pub async fn wait_for<F, Fut>(&self, cond: F, what: &str)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        wait_until(Duration::from_secs(5), cond)
            .await
            .unwrap_or_else(|| panic!("timed out waiting for {what}"));
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await.expect("serve task"),
            None => Ok(()),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// Polls `cond` every 25 ms until it holds (`Some` with the time it took) or `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, cond: F) -> Option<Duration>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if cond().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    None
}

/// The value of one unlabelled (or exactly labelled) sample in a metrics text.
pub fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(sample)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// A Redis connection for arranging revocations (the Redis of
/// `mall_testkit::redis_url`, as the proxies under test use).
pub async fn redis() -> redis::aio::MultiplexedConnection {
    let url = mall_testkit::redis_url();
    redis::Client::open(url.as_str())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("Redis at {url} (the tests need it): {e}"))
}

/// `host:port` of the tests' Redis, and the database path of its URL (`/0`).
fn redis_addr() -> (String, String) {
    let url = mall_testkit::redis_url();
    let parsed = reqwest::Url::parse(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
    let addr = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(6379)
    );
    (addr, parsed.path().to_owned())
}

/// Removes a test's keys.
pub async fn cleanup_redis(prefix: &str) {
    let mut con = redis().await;
    let _: Result<(), _> = redis::cmd("DEL")
        .arg(format!("{prefix}revoked:jti"))
        .arg(format!("{prefix}revoked:users"))
        .query_async(&mut con)
        .await;
}

/// A TCP forwarder to the real Redis that a test can cut and restore, to see the proxy
/// lose and regain its revocation feed without touching the shared Redis.
pub struct Forwarder {
    pub url: String,
    up: Arc<std::sync::atomic::AtomicBool>,
    accepted: Arc<std::sync::atomic::AtomicUsize>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    task: JoinHandle<()>,
}

impl Forwarder {
    pub async fn start() -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind forwarder");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let accepted: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, conns2, accepted2) = (up.clone(), conns.clone(), accepted.clone());
        let (target, db) = redis_addr();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                accepted2.fetch_add(1, Ordering::SeqCst);
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let handle = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns2.lock().expect("conns").push(handle);
            }
        });
        Self {
            url: format!("redis://{addr}{db}"),
            up,
            accepted,
            conns,
            task,
        }
    }

    /// How many connections the forwarder has accepted (refused ones included).
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Drops every forwarded connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().expect("conns").drain(..) {
            c.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}
