//! What the proxy answers for the routes of the contract, and that path tricks cannot
//! reach an admin route.

use crate::helpers::{config, JwksServer, Proxy, TestKey};

async fn setup() -> (JwksServer, Proxy, TestKey) {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;
    (jwks, proxy, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_token_gets_identity_headers() {
    let (_jwks, proxy, key) = setup().await;
    let claims = crate::helpers::claims("42", &["customer"]);
    let token = key.sign(&claims);

    let r = proxy.auth("GET", "/api/users/me", Some(&token)).await;

    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h["x-user-id"], "42");
    assert_eq!(h["x-user-roles"], "customer");
    assert_eq!(h["x-token-id"], claims["jti"].as_str().expect("jti"));
    assert_eq!(h["x-token-expires"], claims["exp"].to_string().as_str());
    assert!(h.get("www-authenticate").is_none());
    assert!(h.get("x-auth-error").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_joined_with_commas() {
    let (_jwks, proxy, key) = setup().await;
    let token = key.token("1", &["customer", "admin"]);

    let r = proxy.auth("GET", "/api/admin/stats", Some(&token)).await;

    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-user-roles"], "customer,admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_token_is_401_with_an_invalid_token_challenge() {
    let (_jwks, proxy, _key) = setup().await;

    let r = proxy.auth("GET", "/api/cart", None).await;

    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-auth-error"], "unauthorized");
    let challenge = r.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(
        challenge.starts_with(r#"Bearer realm="mall", error="invalid_token", error_description=""#)
    );
    assert!(r.headers().get("x-user-id").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_scheme_counts_as_no_token() {
    let (_jwks, proxy, key) = setup().await;
    let token = key.token("1", &["customer"]);

    let r = proxy
        .client
        .get(proxy.url("/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/api/cart")
        .header("Authorization", format!("Basic {token}"))
        .send()
        .await
        .expect("answer");

    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_authorization_headers_are_refused() {
    let (_jwks, proxy, key) = setup().await;
    let token = key.token("1", &["customer"]);

    let r = proxy
        .client
        .get(proxy.url("/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/api/cart")
        .header("Authorization", format!("Bearer {token}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("answer");

    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_pass_without_looking_at_the_token() {
    let (_jwks, proxy, _key) = setup().await;

    for (method, uri) in [
        ("GET", "/api/products?page=2"),
        ("HEAD", "/api/products/5"),
        ("POST", "/api/users/login"),
        ("GET", "/.well-known/jwks.json"),
    ] {
        let r = proxy.auth(method, uri, Some("garbage")).await;
        assert_eq!(r.status(), 200, "{method} {uri}");
        assert!(r.headers().get("x-user-id").is_none());
        assert_eq!(r.headers()["x-auth-public"], "1", "{method} {uri}");
    }
}

/// X-Auth-Public is what lets nginx keep a decision for every caller: only a public
/// route's answer carries it, never an allowed request on another route, never a denial.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_public_routes_answer_is_marked_public() {
    let (_jwks, proxy, key) = setup().await;
    let customer = key.token("7", &["customer"]);

    let allowed = proxy.auth("GET", "/api/cart", Some(&customer)).await;
    let anonymous = proxy.auth("GET", "/api/cart", None).await;
    let forbidden = proxy.auth("GET", "/api/admin/users", Some(&customer)).await;

    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["x-user-id"], "7");
    assert_eq!(
        (anonymous.status().as_u16(), forbidden.status().as_u16()),
        (401, 403)
    );
    for r in [&allowed, &anonymous, &forbidden] {
        assert!(r.headers().get("x-auth-public").is_none(), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_on_an_admin_route_is_403_insufficient_scope() {
    let (_jwks, proxy, key) = setup().await;
    let token = key.token("7", &["customer"]);

    let r = proxy.auth("GET", "/api/admin/users", Some(&token)).await;

    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-auth-error"], "forbidden");
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains(r#"error="insufficient_scope""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_are_denied_even_for_anonymous_and_admins() {
    let (_jwks, proxy, key) = setup().await;
    let admin = key.token("1", &["customer", "admin"]);

    assert_eq!(
        proxy.status("GET", "/api/secret", None).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        proxy.status("GET", "/internal/x", Some(&admin)).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        proxy
            .status("DELETE", "/api/orders/1", Some(&admin))
            .await
            .0,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_tricks_cannot_reach_admin_routes_as_a_customer() {
    let (_jwks, proxy, key) = setup().await;
    let customer = key.token("7", &["customer"]);

    for uri in [
        "/api/admin/..%2fusers",
        "/api/admin/users%2f",
        "/api/./admin/users",
        "//api/admin/users",
        "/api//admin/users/",
        "/api/products/../admin/users",
        "/api/products/%2e%2e/admin/users",
        "/api/products/1/..%2f..%2fadmin/users",
        "/API/admin/users",
        "/api/Admin/users",
        "/api/admin/users%00",
        "/api/admin%5cusers",
        "/api/admin/%2575sers",
        "/api/admin/users\\..\\..\\products",
    ] {
        let (status, code) = proxy.status("GET", uri, Some(&customer)).await;
        assert_eq!((status, code.as_str()), (403, "forbidden"), "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_fragment_cannot_make_a_protected_route_public() {
    let (_jwks, proxy, _key) = setup().await;

    for uri in [
        "/api/users/me?x=/api/products",
        "/api/users/me?/api/products",
        "/api/admin/users?page=1&x=/.well-known/jwks.json",
        "/api/cart#/api/products",
    ] {
        let (status, _) = proxy.status("GET", uri, None).await;
        assert_eq!(status, 401, "{uri}");
    }
    // And a public route stays public whatever its query says.
    assert_eq!(
        proxy
            .status("GET", "/api/products?x=/api/admin/users", None)
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normalised_paths_still_reach_their_route() {
    let (_jwks, proxy, key) = setup().await;
    let customer = key.token("7", &["customer"]);

    for uri in [
        "/api//cart/",
        "/api/./cart",
        "/api/products/../cart",
        "/api/%63art",
    ] {
        assert_eq!(
            proxy.status("GET", uri, Some(&customer)).await.0,
            200,
            "{uri}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_original_request_headers_are_denied() {
    let (_jwks, proxy, _key) = setup().await;

    let r = proxy.get("/auth").await;

    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["x-auth-error"], "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_trace_id_and_served_by() {
    let (_jwks, proxy, key) = setup().await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let token = key.token("7", &["customer"]);

    let kept = proxy
        .client
        .get(proxy.url("/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/api/cart")
        .header("Authorization", format!("Bearer {token}"))
        .header("X-Trace-Id", trace)
        .send()
        .await
        .expect("answer");
    assert_eq!(kept.headers()["x-trace-id"], trace);

    let bad = proxy
        .client
        .get(proxy.url("/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", "/api/cart")
        .header("X-Trace-Id", "NOT-A-TRACE")
        .send()
        .await
        .expect("answer");
    let fresh = bad.headers()["x-trace-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_ne!(fresh, "NOT-A-TRACE");
    assert!(mall_runtime::trace::TraceId::parse(&fresh).is_some());

    let expected = format!("auth-proxy-blue@{}", env!("CARGO_PKG_VERSION"));
    for path in ["/health", "/ready", "/metrics", "/auth"] {
        let r = proxy.get(path).await;
        assert_eq!(r.headers()["x-served-by"], expected.as_str(), "{path}");
        assert!(r.headers().get("x-trace-id").is_some(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonwebtoken_issued_tokens_verify() {
    // The user service signs with `jsonwebtoken`; make sure its output is accepted.
    let (_jwks, proxy, key) = setup().await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    let enc = jsonwebtoken::EncodingKey::from_ed_pem(key.private_pem().as_bytes()).expect("pem");
    let token = jsonwebtoken::encode(&header, &crate::helpers::claims("9", &["customer"]), &enc)
        .expect("encode");

    assert_eq!(
        proxy.status("POST", "/api/orders", Some(&token)).await.0,
        200
    );
}
