//! Attacks on the edge itself (issue "Hardening", classes 1, 5 and 6): whatever bytes a
//! client sends, nginx answers with the standard JSON error body and a trace id, never its
//! own HTML 500; credentials in a query never reach the access log; answers that carry a
//! token or personal data are never cacheable; nginx's own redirects never name the
//! client's Host; the storefront's tests are not served.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{eventually, mall, required_env, send};

/// Sends `request_line` (and a Host header) on a new connection; returns the status code
/// and the body of the answer.
async fn raw(request_line: &[u8]) -> (u16, String) {
    let mut request = request_line.to_vec();
    request.extend_from_slice(b"\r\nHost: mall.test\r\nConnection: close\r\n\r\n");
    let (status, text) = mall().raw_bytes_status(&request).await;
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn assert_json_error(what: &str, status: u16, body: &str, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{what}: {body}");
    let v: Value = serde_json::from_str(body.trim())
        .unwrap_or_else(|e| panic!("{what}: not the JSON error body ({e}): {body:?}"));
    assert_eq!(v["error"]["code"], want_code, "{what}: {body}");
    let trace = v["error"]["trace_id"].as_str().unwrap_or_default();
    assert!(
        trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()),
        "{what}: no trace id in {body}"
    );
}

#[tokio::test]
async fn malformed_request_lines_get_the_json_400_never_a_500() {
    let long = format!("GET /{} HTTP/1.1", "a".repeat(20_000));
    let cases: [(&str, &[u8], u16, &str); 10] = [
        ("lowercase method", b"get / HTTP/1.1", 400, "bad_request"),
        ("no leading slash", b"GET foo HTTP/1.1", 400, "bad_request"),
        (
            "space in the target",
            b"GET /a b HTTP/1.1",
            400,
            "bad_request",
        ),
        (
            "control character",
            b"GET /a\x01b HTTP/1.1",
            400,
            "bad_request",
        ),
        (
            "bad percent-encoding",
            b"GET /%zz HTTP/1.1",
            400,
            "bad_request",
        ),
        (
            "encoded NUL",
            b"GET /api/products/%00 HTTP/1.1",
            400,
            "bad_request",
        ),
        (
            "encoded traversal",
            b"GET /images/..%2f..%2fetc/passwd HTTP/1.1",
            400,
            "bad_request",
        ),
        (
            "dot-dot above the root",
            b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1",
            400,
            "bad_request",
        ),
        (
            "unknown HTTP version",
            b"GET / HTTP/9.9",
            505,
            "http_version_not_supported",
        ),
        (
            "target over nginx's buffer",
            long.as_bytes(),
            414,
            "uri_too_long",
        ),
    ];
    for (what, line, want_status, want_code) in cases {
        let (status, body) = raw(line).await;
        assert_json_error(what, status, &body, want_status, want_code);
    }
}

#[tokio::test]
async fn a_token_in_the_query_never_reaches_the_access_log() {
    let mall = mall();
    let secret = uuid::Uuid::new_v4().simple().to_string();
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let query = format!("/api/products?size=1&Access_Token={secret}");

    let reply = send(mall.get(&query).header("X-Trace-Id", &trace)).await;
    // A body over the limit: nginx logs an error with the request line, query included.
    let too_large = send(
        mall.post(&format!("/api/users/login?access_token={secret}"))
            .header("X-Trace-Id", &trace)
            .body(vec![b'x'; 100 * 1024]),
    )
    .await;

    assert!(reply.status.as_u16() < 500, "{}", reply.text);
    too_large.expect_status(StatusCode::PAYLOAD_TOO_LARGE);
    let dir = PathBuf::from(required_env("MALL_LOG_DIR"));
    let access = dir.join("nginx/access.log");
    let logged = eventually(Duration::from_secs(5), || {
        let found = std::fs::read_to_string(&access)
            .unwrap_or_default()
            .contains(&trace);
        async move { found }
    })
    .await;
    assert!(
        logged,
        "the request ({trace}) is not in {}",
        access.display()
    );
    let error_log = dir.join("nginx/error.log");
    let withheld = eventually(Duration::from_secs(5), || {
        let found = std::fs::read_to_string(&error_log)
            .unwrap_or_default()
            .contains("access_token=[withheld]");
        async move { found }
    })
    .await;
    assert!(
        withheld,
        "no error line with the withheld token in {}",
        error_log.display()
    );
    for file in [access, error_log] {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains(&secret),
            "{} holds the token",
            file.display()
        );
    }
}

#[tokio::test]
async fn answers_with_tokens_or_personal_data_are_never_cacheable() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;

    let login = mall
        .post("/api/users/login")
        .json(&serde_json::json!({"email": user.email, "password": user.password}))
        .send()
        .await
        .expect("login");
    let me = mall
        .get("/api/users/me")
        .bearer_auth(&tokens.access)
        .send()
        .await
        .expect("me");
    let catalog = mall
        .get("/api/products?size=1")
        .send()
        .await
        .expect("catalog");

    for (what, reply) in [("login", &login), ("profile", &me)] {
        assert_eq!(reply.status(), StatusCode::OK, "{what}");
        assert_eq!(
            reply.headers().get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{what}"
        );
    }
    assert!(
        catalog.headers().get("cache-control").is_none(),
        "the public catalog needs no no-store"
    );
}

#[tokio::test]
async fn redirects_never_name_the_clients_host() {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");

    let reply = client
        .get(mall().url("/images"))
        .header("Host", "evil.example")
        .send()
        .await
        .expect("request");

    assert_eq!(reply.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(reply.headers()["location"], "/images/");
}

#[tokio::test]
async fn the_storefronts_tests_are_not_served() {
    let reply = send(mall().get("/tests/storefront_test.py")).await;

    reply.expect_status(StatusCode::NOT_FOUND);
}
