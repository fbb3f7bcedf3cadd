use serde_json::{json, Value};

use crate::helpers::{spawn_app, unique_email, As, ADMIN_EMAIL, ADMIN_PASSWORD};

fn admin(id: u64) -> As {
    As {
        user_id: id,
        roles: "customer,admin",
        jti: None,
        exp: None,
    }
}

#[tokio::test]
async fn bootstrap_admin_can_log_in_and_has_the_admin_role() {
    let app = spawn_app().await;
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 200);
    let pair: Value = r.json().await.unwrap();
    let c = crate::helpers::claims(pair["access_token"].as_str().unwrap());
    assert_eq!(c["roles"], json!(["customer", "admin"]));
}

#[tokio::test]
async fn admin_lists_users_in_pages_and_customers_are_refused() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.register(&unique_email()).await;
    }
    let r = app
        .request_as(
            reqwest::Method::GET,
            "/api/admin/users?page=2&size=2",
            &admin(1),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["page"], 2);
    assert_eq!(page["size"], 2);
    assert_eq!(page["total"], 4); // bootstrap admin + 3
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    let customer = As {
        user_id: 2,
        roles: "customer",
        jti: None,
        exp: None,
    };
    let r = app
        .request_as(reqwest::Method::GET, "/api/admin/users", &customer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let too_big = app
        .request_as(reqwest::Method::GET, "/api/admin/users?size=101", &admin(1))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 422);
}

#[tokio::test]
async fn roles_change_takes_effect_on_the_next_token() {
    let app = spawn_app().await;
    let email = unique_email();
    let user = app.register(&email).await;
    let id = user["id"].as_u64().unwrap();
    let r = app
        .request_as(
            reqwest::Method::PUT,
            &format!("/api/admin/users/{id}/roles"),
            &admin(1),
        )
        .json(&json!({"roles": ["admin", "customer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["roles"], json!(["customer", "admin"]));
    let pair: Value = app
        .login(&email, "correct horse battery")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        crate::helpers::claims(pair["access_token"].as_str().unwrap())["roles"],
        json!(["customer", "admin"])
    );

    let bad = app
        .request_as(
            reqwest::Method::PUT,
            &format!("/api/admin/users/{id}/roles"),
            &admin(1),
        )
        .json(&json!({"roles": ["root"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let missing = app
        .request_as(
            reqwest::Method::PUT,
            "/api/admin/users/999999/roles",
            &admin(1),
        )
        .json(&json!({"roles": ["customer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn revoke_sessions_records_the_user_cutoff_and_kills_refresh_tokens() {
    use redis::AsyncCommands;
    let app = spawn_app().await;
    let email = unique_email();
    let user = app.register(&email).await;
    let id = user["id"].as_u64().unwrap();
    let pair: Value = app
        .login(&email, "correct horse battery")
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .request_as(
            reqwest::Method::POST,
            &format!("/api/admin/users/{id}/revoke-sessions"),
            &admin(1),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mut redis = app.redis().await;
    let cutoff: Option<i64> = redis
        .zscore(format!("{}revoked:users", app.prefix), id.to_string())
        .await
        .unwrap();
    let iat = crate::helpers::claims(pair["access_token"].as_str().unwrap())["iat"]
        .as_i64()
        .unwrap();
    assert!(cutoff.unwrap() >= iat);
    let refreshed = app
        .post(
            "/api/users/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.status(), 401);
}
