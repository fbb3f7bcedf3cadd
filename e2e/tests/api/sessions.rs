//! Using an access token: who am I, what a missing or forged identity gets, and logout.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{first_within, mall, send};

#[tokio::test]
async fn me_with_access_token_returns_the_profile() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;

    let reply = mall.me(&tokens.access).await;

    reply.expect_status(StatusCode::OK).expect_served_by("user");
    assert_eq!(reply.body["id"], user.id);
    assert_eq!(reply.body["email"], user.email.as_str());
    assert_eq!(reply.body["name"], "E2E Shopper");
    assert_eq!(reply.body["roles"], serde_json::json!(["customer"]));
    assert!(
        reply.body["created_at"]
            .as_str()
            .is_some_and(|t| t.contains('T')),
        "{}",
        reply.text
    );
    assert!(
        !reply.text.contains("password"),
        "the profile mentions a password: {}",
        reply.text
    );
}

#[tokio::test]
async fn me_without_token_is_401_with_www_authenticate() {
    let mall = mall();

    let reply = send(mall.get("/api/users/me")).await;

    reply.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "WWW-Authenticate {challenge:?}"
    );
    assert!(
        challenge.contains("realm=\"mall\""),
        "WWW-Authenticate {challenge:?}"
    );
    assert_eq!(reply.headers.get_all("www-authenticate").iter().count(), 1);
}

#[tokio::test]
async fn garbage_token_is_401_invalid_token() {
    let mall = mall();

    let reply = mall.me("not.a.jwt").await;

    reply.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let challenge = reply.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "WWW-Authenticate {challenge:?}"
    );
}

#[tokio::test]
async fn forged_identity_headers_without_a_token_do_not_authenticate() {
    let mall = mall();
    let victim = mall.register().await;

    let reply = send(
        mall.get("/api/users/me")
            .header("X-User-Id", victim.id.to_string())
            .header("X-User-Roles", "customer,admin")
            .header("X-Token-Id", "forged")
            .header("X-Token-Expires", "9999999999"),
    )
    .await;

    reply.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn forged_identity_headers_are_replaced_by_the_tokens_identity() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;
    let other = mall.register().await;

    let me = send(
        mall.get("/api/users/me")
            .bearer_auth(&tokens.access)
            .header("X-User-Id", other.id.to_string()),
    )
    .await;
    let admin_list = send(
        mall.get("/api/admin/users")
            .bearer_auth(&tokens.access)
            .header("X-User-Roles", "admin"),
    )
    .await;

    me.expect_status(StatusCode::OK);
    assert_eq!(
        me.body["id"], user.id,
        "the token's user, not the forged one"
    );
    admin_list.expect_error(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn logout_revokes_the_access_token_and_its_refresh_family() {
    let mall = mall();
    let (_user, tokens) = mall.customer().await;

    let logout = send(mall.post("/api/users/logout").bearer_auth(&tokens.access)).await;

    logout.expect_status(StatusCode::NO_CONTENT);
    // API.md: every gateway refuses the access token within 1 second (of the logout's
    // answer).
    let refused = first_within(Duration::from_secs(1), || async {
        mall.me(&tokens.access).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        refused.is_some(),
        "the access token still works 1 s after logout"
    );
    mall.me(&tokens.access)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "token_revoked");
    mall.try_refresh(&tokens.refresh)
        .await
        .expect_status(StatusCode::UNAUTHORIZED);
}
