//! The client every test uses: the stack's address from the environment, request helpers
//! that check what every response must carry, and ready-made users.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

/// A password that satisfies the user service's rules.
pub const PASSWORD: &str = "correct-horse-battery";

const HOW_TO_RUN: &str = "run scripts/test, which starts a private stack and exports \
    MALL_URL, MALL_ADMIN_EMAIL, MALL_ADMIN_PASSWORD and MALL_LOG_DIR (or start one with \
    scripts/dev up and export them yourself)";

/// A setting the harness must provide; its absence fails the test, never skips it.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{name} is not set: these tests drive a running stack; {HOW_TO_RUN}"),
    }
}

/// The stack under test.
pub struct Mall {
    base: String,
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
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("building the HTTP client");
    Mall { base, http }
}

/// An email nobody else uses, so tests can run in parallel and again.
pub fn unique_email() -> String {
    format!("e2e-{}@example.test", uuid::Uuid::new_v4().simple())
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
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("reading the response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    let reply = Reply {
        status,
        headers,
        text,
        body,
    };
    let ids: Vec<_> = reply.headers.get_all("x-trace-id").iter().collect();
    assert_eq!(
        ids.len(),
        1,
        "exactly one X-Trace-Id on {status}: {:?}",
        reply.headers
    );
    assert!(
        is_trace_id(reply.trace_id()),
        "X-Trace-Id {:?} is not 32 lowercase hex",
        reply.trace_id()
    );
    reply
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
