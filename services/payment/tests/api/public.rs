use serde_json::json;

use crate::helpers::{spawn_app, USER};

#[tokio::test]
async fn a_shopper_sees_only_their_own_payments() {
    let app = spawn_app().await;
    let (_, p) = app.charge(30, 2500, "tok_ok").await;
    let (status, mine) = app.public_get(&p["id"], USER).await;
    assert_eq!(status, 200);
    assert_eq!(
        mine,
        json!({
            "id": p["id"],
            "order_id": 30,
            "amount": 2500,
            "currency": "KRW",
            "status": "approved",
            "created_at": p["created_at"],
        })
    );
    let (status, body) = app.public_get(&p["id"], USER + 1).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(app.public_get(&json!(987654), USER).await.0, 404);
    let anonymous = app
        .http
        .get(format!("{}/api/payments/{}", app.url, p["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
