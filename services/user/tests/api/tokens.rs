use std::time::Duration;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::{claims, spawn_app};

async fn jwks(app: &crate::helpers::TestApp) -> Value {
    let r = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn key_for(jwks: &Value, kid: &str) -> DecodingKey {
    let k = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("kid in JWKS");
    assert_eq!(k["kty"], "OKP");
    assert_eq!(k["crv"], "Ed25519");
    DecodingKey::from_ed_components(k["x"].as_str().unwrap()).unwrap()
}

async fn access_token(app: &crate::helpers::TestApp) -> String {
    let pair = app.signed_in_pair().await;
    pair["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn access_token_is_eddsa_with_kid_and_the_listed_claims() {
    let app = spawn_app().await;
    let token = access_token(&app).await;
    let header = decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("kid");
    let keys = jwks(&app).await;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_issuer(&["mall"]);
    v.set_audience(&["mall-api"]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data =
        decode::<Value>(&token, &key_for(&keys, &kid), &v).expect("verifies with the JWKS key");
    let c = data.claims;
    assert!(c["sub"].is_string());
    assert_eq!(c["roles"], serde_json::json!(["customer"]));
    assert_eq!(c["jti"].as_str().unwrap().len(), 32);
    let ttl = c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap();
    assert!(ttl > 0 && ttl <= 900);
}

#[tokio::test]
async fn keygen_rotates_without_restart_and_old_key_stays_published() {
    let app = spawn_app().await;
    let before = access_token(&app).await;
    let old_kid = decode_header(&before).unwrap().kid.unwrap();
    // Kids sort by their creation time (to the millisecond): the new one must be made in
    // a later millisecond than the old one, so wait for the clock to pass it.
    let stamp = |kid: &str| kid.get(1..18).unwrap_or_default().to_owned();
    while chrono::Utc::now().format("%Y%m%d%H%M%S%3f").to_string() <= stamp(&old_kid) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let new_kid = user_service::keys::generate_into(&app.keys_dir).unwrap();
    assert!(
        stamp(&new_kid) > stamp(&old_kid),
        "{new_kid} after {old_kid}"
    );
    // The service rescans its keys directory on its own time: polled, with a deadline.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let t = access_token(&app).await;
        if decode_header(&t).unwrap().kid.as_deref() == Some(new_kid.as_str()) {
            break t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service does not sign with the new key without a restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let keys = jwks(&app).await;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_audience(&["mall-api"]);
    decode::<Value>(&after, &key_for(&keys, &new_kid), &v).expect("new token verifies");
    decode::<Value>(&before, &key_for(&keys, &old_kid), &v).expect("old token still verifies");
    assert_eq!(claims(&after)["iss"], "mall");
}
