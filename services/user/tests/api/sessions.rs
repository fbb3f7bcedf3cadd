use futures_util::StreamExt;
use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::helpers::{claims, spawn_app, unique_email, As};

async fn login_pair(app: &crate::helpers::TestApp, email: &str) -> Value {
    let r = app.login(email, "correct horse battery").await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn login_answers_a_bearer_pair() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let pair = login_pair(&app, &email).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["access_token"].as_str().unwrap().split('.').count(), 3);
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 40);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    let first = login_pair(&app, &email).await;
    let r1 = first["refresh_token"].as_str().unwrap();

    let second: Value = app
        .post("/api/users/refresh", json!({"refresh_token": r1}))
        .await
        .json()
        .await
        .unwrap();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let jti2 = claims(second["access_token"].as_str().unwrap())["jti"]
        .as_str()
        .unwrap()
        .to_owned();

    // Reusing the spent token is refused and revokes the family…
    let reuse = app
        .post("/api/users/refresh", json!({"refresh_token": r1}))
        .await;
    assert_eq!(reuse.status(), 401);
    let v: Value = reuse.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
    // …so the newer refresh token is refused too…
    assert_eq!(
        app.post("/api/users/refresh", json!({"refresh_token": r2}))
            .await
            .status(),
        401
    );
    // …and the family's live access tokens are on the denylist auth-proxy reads.
    let mut redis = app.redis().await;
    let score: Option<i64> = redis
        .zscore(format!("{}revoked:jti", app.prefix), &jti2)
        .await
        .unwrap();
    assert!(
        score.is_some(),
        "the access token of the reused family must be revoked"
    );
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = spawn_app().await;
    let r = app
        .post("/api/users/refresh", json!({"refresh_token": "made-up"}))
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn logout_revokes_the_token_and_its_refresh_family_and_publishes() {
    let app = spawn_app().await;
    let email = unique_email();
    let user = app.register(&email).await;
    let pair = login_pair(&app, &email).await;
    let c = claims(pair["access_token"].as_str().unwrap());
    let jti = c["jti"].as_str().unwrap().to_owned();

    let client = redis::Client::open(mall_testkit::redis_url()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub
        .subscribe(format!("{}revocations", app.prefix))
        .await
        .unwrap();

    let who = As {
        user_id: user["id"].as_u64().unwrap(),
        roles: "customer",
        jti: Some(jti.clone()),
        exp: c["exp"].as_i64(),
    };
    let r = app
        .request_as(reqwest::Method::POST, "/api/users/logout", &who)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    // Published in the same pipeline as the set, before the answer: it is on its way.
    // The deadline only stops a hang.
    let msg = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        pubsub.on_message().next(),
    )
    .await
    .expect("no revocation message was published")
    .unwrap();
    let payload: Value = serde_json::from_str(&msg.get_payload::<String>().unwrap()).unwrap();
    assert_eq!(payload, json!({"kind": "jti", "jti": jti, "exp": c["exp"]}));
    let mut redis = app.redis().await;
    let score: Option<i64> = redis
        .zscore(format!("{}revoked:jti", app.prefix), &jti)
        .await
        .unwrap();
    assert_eq!(score, c["exp"].as_i64());
    let refreshed = app
        .post(
            "/api/users/refresh",
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.status(), 401);
}
