//! The client every test uses: the stack's address from the environment, request helpers
//! that check what every response must carry, and ready-made users.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A password that satisfies the user service's rules.
pub const PASSWORD: &str = "correct-horse-battery";

const HOW_TO_RUN: &str = "run scripts/test, which starts a private stack and exports \
    MALL_URL, MALL_ADMIN_EMAIL, MALL_ADMIN_PASSWORD, MALL_LOG_DIR, MALL_VAR, \
    MALL_USER_SERVICE_BIN and MALL_GATEWAY_URL (or start one with scripts/dev up and export them yourself)";

/// A setting the harness must provide; its absence fails the test, never skips it.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{name} is not set: these tests drive a running stack; {HOW_TO_RUN}"),
    }
}

/// The stack under test.
pub struct Mall {
    pub base: String,
    http: reqwest::Client,
}

/// A response, read completely.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

/// A registered user and their password.
pub struct User {
    pub id: i64,
    pub email: String,
    pub password: String,
}

/// What login and refresh answer.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub body: Value,
}

pub fn mall() -> Mall {
    let base = required_env("MALL_URL").trim_end_matches('/').to_owned();
    // Idle connections are dropped before nginx's keepalive_timeout (30 s) closes them: a
    // test that waits longer (the crash test waits for a restarted container's health
    // check, every 30 s on compose) would otherwise reuse a connection nginx is closing
    // and read no answer (hyper's IncompleteMessage).
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(20))
        .build()
        .expect("building the HTTP client");
    Mall { base, http }
}

/// An email nobody else uses, so tests can run in parallel and again.
pub fn unique_email() -> String {
    format!("e2e-{}@example.test", uuid::Uuid::new_v4().simple())
}

/// A short tag nobody else uses, for names and categories of a test's own products.
pub fn unique_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A valid create body (`POST /api/products`) with a stock of 100 and no currency.
pub fn product_body(name: &str, category: &str, price: i64) -> Value {
    json!({
        "name": name,
        "description": format!("{name}, made for the end-to-end tests"),
        "price": price,
        "stock": 100,
        "category": category,
    })
}

/// The decoded header of a JWT (e.g. its `kid`).
pub fn jwt_header(token: &str) -> Value {
    let segment = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .unwrap_or_else(|e| panic!("the JWT header is not base64url ({e}): {token}"));
    serde_json::from_slice(&bytes).expect("the JWT header is JSON")
}

/// True for a trace id as the API defines it: 32 lowercase hex characters.
pub fn is_trace_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// === impl Mall ===

impl Mall {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path)
    }

    /// Sends `method target HTTP/1.1` byte for byte, over a plain TCP connection: the
    /// request target reaches nginx exactly as written (no client-side normalisation of
    /// `.`/`..` segments, `//`, escapes or `#`). Checks the trace id like [`send`].
    pub async fn raw(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Reply {
        let url = reqwest::Url::parse(&self.base).expect("MALL_URL is a URL");
        let host = url.host_str().expect("MALL_URL names a host").to_owned();
        let port = url.port_or_known_default().expect("MALL_URL has a port");
        let mut head =
            format!("{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let bytes = self.raw_bytes(head.as_bytes()).await;
        checked(&format!("{method} {target}"), parse_raw_response(&bytes))
    }

    /// Writes `request` as it is (malformed request lines, ambiguous framing) on a new
    /// connection to nginx and reads until nginx closes it; the status code and the whole
    /// answer as text.
    pub async fn raw_bytes_status(&self, request: &[u8]) -> (u16, String) {
        let text = String::from_utf8_lossy(&self.raw_bytes(request).await).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        (status, text)
    }

    async fn raw_bytes(&self, request: &[u8]) -> Vec<u8> {
        let url = reqwest::Url::parse(&self.base).expect("MALL_URL is a URL");
        let host = url.host_str().expect("MALL_URL names a host").to_owned();
        let port = url.port_or_known_default().expect("MALL_URL has a port");
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            stream.write_all(request).await?;
            let mut bytes = Vec::new();
            stream.read_to_end(&mut bytes).await?;
            Ok::<_, std::io::Error>(bytes)
        };
        tokio::time::timeout(Duration::from_secs(30), exchange)
            .await
            .expect("an answer within 30 s")
            .expect("the raw exchange")
    }

    /// Creates a product as the admin; panics unless the answer is 201.
    pub async fn create_product(&self, admin_token: &str, body: &Value) -> Value {
        let reply = send(
            self.post("/api/products")
                .bearer_auth(admin_token)
                .json(body),
        )
        .await;
        reply.expect_status(StatusCode::CREATED);
        assert!(
            reply.body["id"].as_i64().is_some_and(|id| id > 0),
            "create answers a positive id: {}",
            reply.text
        );
        reply.body.clone()
    }

    /// `GET /api/products/{id}`, anonymously.
    pub async fn product(&self, id: i64) -> Reply {
        send(self.get(&format!("/api/products/{id}"))).await
    }

    /// `GET /api/cart` with this token.
    pub async fn cart(&self, access_token: &str) -> Reply {
        send(self.get("/api/cart").bearer_auth(access_token)).await
    }

    /// `PUT /api/cart/items/{product_id}` with this token.
    pub async fn put_cart_item(&self, access_token: &str, product_id: i64, quantity: i64) -> Reply {
        send(
            self.put(&format!("/api/cart/items/{product_id}"))
                .bearer_auth(access_token)
                .json(&json!({ "quantity": quantity })),
        )
        .await
    }

    /// Registers a fresh customer.
    pub async fn register(&self) -> User {
        let email = unique_email();
        let reply = send(self.post("/api/users/register").json(&json!({
            "email": email,
            "password": PASSWORD,
            "name": "E2E Shopper",
        })))
        .await;
        reply.expect_status(StatusCode::CREATED);
        let id = reply.body["id"]
            .as_i64()
            .expect("register answers a numeric id");
        User {
            id,
            email,
            password: PASSWORD.to_owned(),
        }
    }

    /// Logs in and returns the tokens; panics unless the login succeeds.
    pub async fn login(&self, email: &str, password: &str) -> Tokens {
        let reply = self.try_login(email, password).await;
        reply.expect_status(StatusCode::OK);
        Tokens::from_reply(&reply)
    }

    pub async fn try_login(&self, email: &str, password: &str) -> Reply {
        send(
            self.post("/api/users/login")
                .json(&json!({ "email": email, "password": password })),
        )
        .await
    }

    pub async fn try_refresh(&self, refresh_token: &str) -> Reply {
        send(
            self.post("/api/users/refresh")
                .json(&json!({ "refresh_token": refresh_token })),
        )
        .await
    }

    /// A fresh customer, logged in.
    pub async fn customer(&self) -> (User, Tokens) {
        let user = self.register().await;
        let tokens = self.login(&user.email, &user.password).await;
        (user, tokens)
    }

    /// The bootstrapped admin, logged in.
    pub async fn admin(&self) -> Tokens {
        let email = required_env("MALL_ADMIN_EMAIL");
        let password = required_env("MALL_ADMIN_PASSWORD");
        self.login(&email, &password).await
    }

    pub async fn me(&self, access_token: &str) -> Reply {
        send(self.get("/api/users/me").bearer_auth(access_token)).await
    }
}

/// Sends the request and checks what every response carries: an `X-Trace-Id` of 32
/// lowercase hex characters, exactly once.
pub async fn send(request: RequestBuilder) -> Reply {
    let response = request.send().await.expect("the stack answers");
    let what = response.url().path().to_owned();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("reading the response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    checked(
        &what,
        Reply {
            status,
            headers,
            text,
            body,
        },
    )
}

/// What every response must carry: an `X-Trace-Id` of 32 lowercase hex characters, exactly
/// once.
fn checked(what: &str, reply: Reply) -> Reply {
    let status = reply.status;
    let ids: Vec<_> = reply.headers.get_all("x-trace-id").iter().collect();
    assert_eq!(
        ids.len(),
        1,
        "exactly one X-Trace-Id on {status} of {what}: {:?}",
        reply.headers
    );
    assert!(
        is_trace_id(reply.trace_id()),
        "X-Trace-Id {:?} of {what} is not 32 lowercase hex",
        reply.trace_id()
    );
    reply
}

/// A whole HTTP/1.1 response as read from the socket (the server closed it): status line,
/// headers, and the body, de-chunked when `Transfer-Encoding: chunked`.
fn parse_raw_response(bytes: &[u8]) -> Reply {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers in {:?}", String::from_utf8_lossy(bytes)));
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let code: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let status = StatusCode::from_u16(code).expect("a valid status code");
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("bad header line {line:?}"));
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(value.trim()).expect("a valid header value"),
        );
    }
    let raw_body = &bytes[split + 4..];
    let chunked = headers
        .get("transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body_bytes = if chunked {
        dechunk(raw_body)
    } else {
        raw_body.to_vec()
    };
    let text = String::from_utf8_lossy(&body_bytes).into_owned();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        text,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .unwrap_or_else(|_| panic!("bad chunk size {size_text:?}"));
        rest = &rest[eol + 2..];
        if size == 0 || rest.len() < size {
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

// === impl Reply ===

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn trace_id(&self) -> &str {
        self.header("x-trace-id").unwrap_or_default()
    }

    pub fn expect_status(&self, status: StatusCode) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Checks the one error shape of the API: status, code, a message, and the response's
    /// trace id in the body.
    pub fn expect_error(&self, status: StatusCode, code: &str) -> &Self {
        self.expect_status(status);
        let error = &self.body["error"];
        assert_eq!(error["code"], code, "error code; body: {}", self.text);
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "error message missing; body: {}",
            self.text
        );
        assert_eq!(
            error["trace_id"],
            self.trace_id(),
            "trace id in the body; body: {}",
            self.text
        );
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "content type {content_type:?}"
        );
        self
    }

    /// `None` when the body is the API's one error shape (a non-empty `code` and `message`,
    /// the response's trace id, a JSON content type); else what is wrong with it. For
    /// checks that collect problems instead of panicking at the first.
    pub fn error_shape_problem(&self) -> Option<String> {
        let error = &self.body["error"];
        let content_type = self.header("content-type").unwrap_or_default();
        if !content_type.starts_with("application/json") {
            Some(format!("content type {content_type:?} is not JSON"))
        } else if error["code"].as_str().is_none_or(str::is_empty) {
            Some("no error.code".to_owned())
        } else if error["message"].as_str().is_none_or(str::is_empty) {
            Some("no error.message".to_owned())
        } else if error["trace_id"] != self.trace_id() {
            Some(format!(
                "error.trace_id {} is not the X-Trace-Id {}",
                error["trace_id"],
                self.trace_id()
            ))
        } else {
            None
        }
    }

    /// Checks that a service (not nginx) answered: `X-Served-By: <service>-<color>@<version>`.
    pub fn expect_served_by(&self, service: &str) -> &Self {
        let served_by = self.header("x-served-by").unwrap_or_default();
        let prefix = format!("{service}-");
        let slot = served_by.strip_prefix(&prefix).unwrap_or_default();
        assert!(
            (slot.starts_with("blue@") || slot.starts_with("green@")) && slot.len() > "blue@".len(),
            "X-Served-By {served_by:?} does not name a slot of {service}"
        );
        self
    }
}

// === impl Tokens ===

impl Tokens {
    pub fn from_reply(reply: &Reply) -> Self {
        let field = |name: &str| {
            reply.body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} missing from {}", reply.text))
                .to_owned()
        };
        Self {
            access: field("access_token"),
            refresh: field("refresh_token"),
            body: reply.body.clone(),
        }
    }
}

/// Polls `check` until it returns true or `within` passes; for effects the system promises
/// within a bound (revocation reaches every auth-proxy within 1 s, log lines get flushed).
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// For a bound the contract itself states ("refused everywhere within 1 s"): polls `check`
/// every 10 ms from now and answers how long after now the first check that held was
/// *started*, if one started within `limit`. A check started after the limit never counts,
/// however soon it answers, so the bound is the contract's and not the poll's.
pub async fn first_within<F, Fut>(limit: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        let at = start.elapsed();
        if at > limit {
            return None;
        }
        if check().await {
            return Some(at);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
