//! Access and refresh tokens: their shape, signature, rotation and reuse detection.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{mall, send};

fn decode_segment(segment: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .expect("a base64url JWT segment");
    serde_json::from_slice(&bytes).expect("a JSON JWT segment")
}

#[tokio::test]
async fn login_answers_bearer_tokens() {
    let mall = mall();
    let user = mall.register().await;

    let reply = mall.try_login(&user.email, &user.password).await;

    reply.expect_status(StatusCode::OK).expect_served_by("user");
    assert_eq!(reply.body["token_type"], "Bearer");
    let expires_in = reply.body["expires_in"].as_i64().unwrap_or_default();
    assert!((1..=900).contains(&expires_in), "expires_in {expires_in}");
    assert!(reply.body["access_token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert!(reply.body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 32));
}

#[tokio::test]
async fn access_token_is_an_eddsa_jwt_signed_by_a_published_key() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;
    let parts: Vec<&str> = tokens.access.split('.').collect();
    let (header, claims) = (decode_segment(parts[0]), decode_segment(parts[1]));

    let jwks = send(mall.get("/.well-known/jwks.json")).await;

    jwks.expect_status(StatusCode::OK).expect_served_by("user");
    assert_eq!(header["alg"], "EdDSA");
    let kid = header["kid"].as_str().expect("a kid in the JWT header");
    let key = jwks.body["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid))
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS: {}", jwks.text));
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(key["x"].as_str().expect("x in the JWK"))
        .expect("base64url x")
        .try_into()
        .expect("a 32-byte Ed25519 key");
    let signature = Signature::from_slice(
        &URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("base64url signature"),
    )
    .expect("a 64-byte signature");
    let signed = format!("{}.{}", parts[0], parts[1]);
    VerifyingKey::from_bytes(&x)
        .expect("a valid Ed25519 key")
        .verify(signed.as_bytes(), &signature)
        .expect("the signature verifies with the published key");
    assert_eq!(claims["sub"], user.id.to_string());
    assert_eq!(claims["iss"], "mall");
    assert_eq!(claims["aud"], "mall-api");
    assert!(claims["roles"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r == "customer")));
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let lifetime =
        claims["exp"].as_i64().unwrap_or_default() - claims["iat"].as_i64().unwrap_or_default();
    assert!(
        (1..=900).contains(&lifetime),
        "access token lifetime {lifetime}s"
    );
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_issues_a_working_access_token() {
    let mall = mall();
    let (user, first) = mall.customer().await;

    let reply = mall.try_refresh(&first.refresh).await;

    reply.expect_status(StatusCode::OK).expect_served_by("user");
    let second = crate::helpers::Tokens::from_reply(&reply);
    assert_ne!(second.refresh, first.refresh, "the refresh token rotates");
    assert_eq!(second.body["token_type"], "Bearer");
    let me = mall.me(&second.access).await;
    me.expect_status(StatusCode::OK);
    assert_eq!(me.body["id"], user.id);
}

#[tokio::test]
async fn reused_refresh_token_is_refused_and_revokes_its_family() {
    let mall = mall();
    let (_user, first) = mall.customer().await;
    let rotated = mall.try_refresh(&first.refresh).await;
    rotated.expect_status(StatusCode::OK);
    let second = crate::helpers::Tokens::from_reply(&rotated);

    let reuse = mall.try_refresh(&first.refresh).await;

    reuse.expect_status(StatusCode::UNAUTHORIZED);
    assert!(reuse.body["error"]["code"].is_string(), "{}", reuse.text);
    assert_eq!(reuse.body["error"]["trace_id"], reuse.trace_id());
    let newer = mall.try_refresh(&second.refresh).await;
    newer.expect_status(StatusCode::UNAUTHORIZED);
}
