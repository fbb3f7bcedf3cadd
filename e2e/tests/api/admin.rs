//! The admin endpoints of the user service, and that only admins reach them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{first_within, mall, send};

#[tokio::test]
async fn bootstrapped_admin_can_log_in_with_the_admin_role() {
    let mall = mall();

    let admin = mall.admin().await;

    let me = mall.me(&admin.access).await;
    me.expect_status(StatusCode::OK);
    let roles = me.body["roles"].as_array().cloned().unwrap_or_default();
    assert!(roles.contains(&json!("admin")), "roles {roles:?}");
}

#[tokio::test]
async fn admin_pages_through_users() {
    let mall = mall();
    mall.register().await;
    mall.register().await;
    let admin = mall.admin().await;

    let first = send(
        mall.get("/api/admin/users?page=1&size=2")
            .bearer_auth(&admin.access),
    )
    .await;
    let second = send(
        mall.get("/api/admin/users?page=2&size=2")
            .bearer_auth(&admin.access),
    )
    .await;

    first.expect_status(StatusCode::OK).expect_served_by("user");
    second.expect_status(StatusCode::OK);
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["size"], 2);
    assert_eq!(second.body["page"], 2);
    let items = first.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", first.text);
    assert!(
        first.body["total"].as_i64().is_some_and(|t| t >= 3),
        "{}",
        first.text
    );
    assert!(items
        .iter()
        .all(|u| u["id"].is_i64() && u["email"].is_string()));
    assert!(
        !first.text.contains("password"),
        "a user listing mentions a password"
    );
    let second_ids: Vec<_> = second.body["items"].as_array().cloned().unwrap_or_default();
    assert!(
        items
            .iter()
            .all(|u| !second_ids.iter().any(|v| v["id"] == u["id"])),
        "pages overlap"
    );
}

#[tokio::test]
async fn customer_is_forbidden_from_admin_users() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;

    let reply = send(mall.get("/api/admin/users").bearer_auth(&tokens.access)).await;

    reply.expect_error(StatusCode::FORBIDDEN, "forbidden");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("insufficient_scope"),
        "WWW-Authenticate {challenge:?}"
    );
}

#[tokio::test]
async fn granted_admin_role_takes_effect_on_the_next_login() {
    let mall = mall();
    let (user, before) = mall.customer().await;
    let admin = mall.admin().await;

    let reply = send(
        mall.put(&format!("/api/admin/users/{}/roles", user.id))
            .bearer_auth(&admin.access)
            .json(&json!({ "roles": ["customer", "admin"] })),
    )
    .await;

    reply.expect_status(StatusCode::OK);
    assert_eq!(reply.body["id"], user.id);
    let old_token = send(mall.get("/api/admin/users").bearer_auth(&before.access)).await;
    old_token.expect_error(StatusCode::FORBIDDEN, "forbidden");
    let after = mall.login(&user.email, &user.password).await;
    send(mall.get("/api/admin/users").bearer_auth(&after.access))
        .await
        .expect_status(StatusCode::OK);
}

#[tokio::test]
async fn revoke_sessions_rejects_the_users_existing_tokens() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;
    let admin = mall.admin().await;

    let reply = send(
        mall.post(&format!("/api/admin/users/{}/revoke-sessions", user.id))
            .bearer_auth(&admin.access),
    )
    .await;

    reply.expect_status(StatusCode::NO_CONTENT);
    // API.md: rejected everywhere within 1 second (of the answer).
    let refused = first_within(Duration::from_secs(1), || async {
        mall.me(&tokens.access).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        refused.is_some(),
        "the user's token still works 1 s after revoke-sessions"
    );
    mall.me(&tokens.access)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "token_revoked");
}
