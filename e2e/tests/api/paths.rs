//! Path tricks a customer might try to reach an admin route with: dot segments, encoded
//! slashes and letters, doubled slashes, case, a trailing slash, a query or fragment that
//! looks like a public path. nginx and auth-proxy each normalise the path; whatever they
//! make of these, a customer must never get the user list. Requests go out byte for byte
//! ([`Mall::raw`]), so no client-side URL normalisation hides a trick.

use reqwest::StatusCode;

use crate::helpers::{mall, send, Mall};

const TRICKS: &[&str] = &[
    "/api/admin/..%2fusers",
    "/api/./admin/users",
    "//api/admin/users",
    "/API/admin/users",
    "/api/admin/users/",
    "/api/admin/%75sers",
    "/api/users/../admin/users",
    "/api/users/me/../../admin/users",
    "/api/admin/users?x=/api/products",
    "/api/products/../admin/users",
    "/api/admin/users#x",
];

async fn get_raw(mall: &Mall, target: &str, token: &str) -> crate::helpers::Reply {
    let auth = format!("Bearer {token}");
    mall.raw("GET", target, &[("Authorization", auth.as_str())])
        .await
}

#[tokio::test]
async fn raw_requests_reach_the_admin_user_list_when_the_caller_is_an_admin() {
    // The control for the test below: the raw client does reach the list, so a refusal
    // there is the stack's doing.
    let mall = mall();
    let admin = mall.admin().await;

    let reply = get_raw(&mall, "/api/admin/users?page=1&size=1", &admin.access).await;

    reply.expect_status(StatusCode::OK);
    assert!(reply.body["items"].is_array(), "{}", reply.text);
}

#[tokio::test]
async fn path_tricks_do_not_get_a_customer_the_admin_user_list() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;
    let mut leaks = Vec::new();

    for target in TRICKS {
        let reply = get_raw(&mall, target, &tokens.access).await;

        if reply.status.is_success() || !reply.body["items"].is_null() {
            leaks.push(format!("GET {target}: {} {}", reply.status, reply.text));
        }
    }

    assert!(
        leaks.is_empty(),
        "a customer reached the admin user list:\n{}",
        leaks.join("\n")
    );
}

#[tokio::test]
async fn forged_admin_identity_headers_with_a_customer_token_are_403() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;

    let reply = send(
        mall.get("/api/admin/users")
            .bearer_auth(&tokens.access)
            .header("X-User-Id", "1")
            .header("X-User-Roles", "admin"),
    )
    .await;

    reply.expect_error(StatusCode::FORBIDDEN, "forbidden");
    assert!(reply.body["items"].is_null(), "{}", reply.text);
}
