//! Strict token validation: every way a token can be wrong gets 401, through the real
//! HTTP path. Each forged token is derived from a valid one, which is checked to pass.

use serde_json::{json, Value};

use crate::helpers::{b64, claims, config, metric, now, JwksServer, Proxy, TestKey};

const ROUTE: &str = "/api/users/me";

struct Setup {
    jwks: JwksServer,
    proxy: Proxy,
    key: TestKey,
}

async fn setup() -> Setup {
    let key = TestKey::generate("k1");
    let jwks = JwksServer::start(vec![key.jwk()]).await;
    let proxy = Proxy::start_ready(config(&jwks.url)).await;
    Setup { jwks, proxy, key }
}

impl Setup {
    async fn expect(&self, token: &str, code: &str, what: &str) {
        let (status, got) = self.proxy.status("GET", ROUTE, Some(token)).await;
        assert_eq!((status, got.as_str()), (401, code), "{what}");
    }

    async fn expect_ok(&self, token: &str, what: &str) {
        assert_eq!(
            self.proxy.status("GET", ROUTE, Some(token)).await.0,
            200,
            "{what}"
        );
    }

    /// Signs `claims` after `edit`, with the issuer's header.
    fn signed_with(&self, edit: impl FnOnce(&mut Value)) -> String {
        let mut c = claims("42", &["customer"]);
        edit(&mut c);
        self.key.sign(&c)
    }
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg_none_is_refused_in_any_spelling() {
    let s = setup().await;
    let payload = claims("42", &["customer"]).to_string();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": "k1"}).to_string();
        let unsigned = format!("{}.{}.", b64(&header), b64(&payload));
        s.expect(
            &unsigned,
            "unauthorized",
            &format!("{alg}, empty signature"),
        )
        .await;
        let with_sig = format!("{}.{}.{}", b64(&header), b64(&payload), b64("x"));
        s.expect(&with_sig, "unauthorized", &format!("{alg}, junk signature"))
            .await;
        // Even signed correctly by the real key, `none` is not an algorithm we run.
        let signed = s.key.sign_raw(&header, &payload);
        s.expect(&signed, "unauthorized", &format!("{alg}, real signature"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_signed_with_the_public_key_is_refused() {
    let s = setup().await;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    let c = claims("42", &["admin"]);
    let secrets = [
        s.key.public_bytes().to_vec(),
        b64(s.key.public_bytes()).into_bytes(),
        s.key.public_pem().into_bytes(),
    ];
    for secret in secrets {
        let token = jsonwebtoken::encode(
            &header,
            &c,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .expect("hs256");
        s.expect(&token, "unauthorized", "HS256 with public key")
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_by_another_key_is_refused() {
    let s = setup().await;
    let impostor = TestKey::generate("k1");
    s.expect_ok(&s.key.token("42", &["customer"]), "control")
        .await;
    s.expect(
        &impostor.token("42", &["customer"]),
        "unauthorized",
        "wrong key",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_tokens_are_refused() {
    let s = setup().await;
    let token = s.key.token("42", &["customer"]);
    s.expect_ok(&token, "control").await;
    let p = parts(&token);

    let mut admin = claims("42", &["customer", "admin"]);
    admin["jti"] = json!("tampered");
    let payload = format!("{}.{}.{}", p[0], b64(admin.to_string()), p[2]);
    s.expect(&payload, "unauthorized", "tampered payload").await;

    let header = json!({"alg": "EdDSA", "kid": "k1"}).to_string();
    let header = format!("{}.{}.{}", b64(header), p[1], p[2]);
    s.expect(&header, "unauthorized", "tampered header").await;

    let mut sig = p[2].clone().into_bytes();
    sig[5] = if sig[5] == b'A' { b'B' } else { b'A' };
    let flipped = format!(
        "{}.{}.{}",
        p[0],
        p[1],
        String::from_utf8(sig).expect("ascii")
    );
    s.expect(&flipped, "unauthorized", "flipped signature byte")
        .await;

    s.expect(
        &format!("{}.{}.", p[0], p[1]),
        "unauthorized",
        "empty signature",
    )
    .await;
    let short = format!("{}.{}.{}", p[0], p[1], &p[2][..20]);
    s.expect(&short, "unauthorized", "truncated signature")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tokens_say_token_expired() {
    let s = setup().await;
    let token = s.signed_with(|c| {
        c["iat"] = json!(now() - 1000);
        c["exp"] = json!(now() - 100);
    });
    s.expect(&token, "token_expired", "expired").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_yet_valid_and_future_iat_are_refused() {
    let s = setup().await;
    let nbf = s.signed_with(|c| c["nbf"] = json!(now() + 120));
    s.expect(&nbf, "unauthorized", "nbf in the future").await;
    let iat = s.signed_with(|c| {
        c["iat"] = json!(now() + 120);
        c["exp"] = json!(now() + 900);
    });
    s.expect(&iat, "unauthorized", "iat in the future").await;
    let within = s.signed_with(|c| c["iat"] = json!(now() + 2));
    s.expect_ok(&within, "iat within the leeway").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetime_longer_than_the_issuers_is_refused() {
    let s = setup().await;
    let token = s.signed_with(|c| c["exp"] = json!(now() + 86_400));
    s.expect(&token, "unauthorized", "a day-long token").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_and_audience_are_exact() {
    let s = setup().await;
    s.expect(
        &s.signed_with(|c| c["iss"] = json!("evil")),
        "unauthorized",
        "iss",
    )
    .await;
    s.expect(
        &s.signed_with(|c| c["iss"] = json!("Mall")),
        "unauthorized",
        "iss case",
    )
    .await;
    s.expect(
        &s.signed_with(|c| c["aud"] = json!("other")),
        "unauthorized",
        "aud",
    )
    .await;
    s.expect(
        &s.signed_with(|c| c["aud"] = json!(["other"])),
        "unauthorized",
        "aud array",
    )
    .await;
    s.expect_ok(
        &s.signed_with(|c| c["aud"] = json!(["other", "mall-api"])),
        "aud array with ours",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_required_claims_are_refused() {
    let s = setup().await;
    for k in ["sub", "exp", "iat", "jti", "iss", "aud"] {
        let token = s.signed_with(|c| {
            c.as_object_mut().map(|o| o.remove(k));
        });
        s.expect(&token, "unauthorized", &format!("missing {k}"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_the_wrong_type_are_refused() {
    let s = setup().await;
    for (k, v) in [
        ("exp", json!("never")),
        ("exp", json!(null)),
        ("exp", json!(9.9e9)),
        ("iat", json!("0")),
        ("aud", json!(7)),
        ("aud", json!({"aud": "mall-api"})),
        ("roles", json!("admin")),
        ("roles", json!([1, 2])),
        ("roles", json!([["admin"]])),
        ("sub", json!(42)),
        ("sub", json!(["42"])),
        ("jti", json!(5)),
        ("nbf", json!("soon")),
    ] {
        let token = s.signed_with(|c| c[k] = v.clone());
        s.expect(&token, "unauthorized", &format!("{k} = {v}"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_carrying_keys_urls_or_crit_are_refused() {
    let s = setup().await;
    let payload = claims("42", &["admin"]).to_string();
    for (name, value) in [
        ("jwk", s.key.jwk()),
        ("jku", json!("http://evil.example/jwks.json")),
        ("x5u", json!("http://evil.example/cert.pem")),
        ("x5c", json!(["MIIBIjANBgkq"])),
        ("crit", json!(["exp"])),
        ("crit", json!(["b64"])),
    ] {
        let mut header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "k1"});
        header[name] = value;
        let token = s.key.sign_raw(&header.to_string(), &payload);
        s.expect(&token, "unauthorized", name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_number_of_parts_is_refused() {
    let s = setup().await;
    let token = s.key.token("42", &["customer"]);
    let p = parts(&token);
    s.expect(&format!("{}.{}", p[0], p[1]), "unauthorized", "2 parts")
        .await;
    let jwe = format!("{}.{}.{}.{}.{}", p[0], p[1], p[2], p[1], p[2]);
    s.expect(&jwe, "unauthorized", "5 parts (JWE)").await;
    s.expect(&format!("{token}.{}", p[2]), "unauthorized", "4 parts")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_base64url_characters_are_refused() {
    let s = setup().await;
    let token = s.key.token("42", &["customer"]);
    let p = parts(&token);
    for bad in [
        format!("{}.{}.{}=", p[0], p[1], p[2]),
        format!("{}.{}+.{}", p[0], p[1], p[2]),
        format!("{}/.{}.{}", p[0], p[1], p[2]),
        format!("{}.{}.{}%41", p[0], p[1], p[2]),
        format!("{}.{}.{}!", p[0], p[1], p[2]),
    ] {
        s.expect(&bad, "unauthorized", &bad).await;
    }
}

/// "Quickly": before any work on the token. Not a stopwatch: the size is checked before
/// the verified-token cache is even looked up (no hash of 9 KB, no cache entry), so
/// neither the cache counters nor the JWKS server (an unknown `kid` would be fetched for)
/// see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_tokens_are_refused_quickly() {
    let s = setup().await;
    let stranger = TestKey::generate("k-unknown");
    let mut c = claims("42", &["customer"]);
    c["pad"] = json!("x".repeat(9000));
    let huge = stranger.sign(&c);
    assert!(huge.len() > 8192);
    let before = s.proxy.metrics().await;
    let fetches = s.jwks.hits();

    s.expect(&huge, "unauthorized", "oversized").await;

    let metrics = s.proxy.metrics().await;
    assert!(
        metrics.contains(r#"reason="too_large",result="unauthorized"} 1"#),
        "{metrics}"
    );
    for counter in [
        "auth_token_cache_hits_total",
        "auth_token_cache_misses_total",
    ] {
        assert_eq!(
            metric(&metrics, counter),
            metric(&before, counter),
            "{counter}: the oversized token was looked up"
        );
    }
    assert_eq!(s.jwks.hits(), fetches, "keys were fetched for it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_json_keys_are_refused() {
    let s = setup().await;
    let c = claims("42", &["customer"]);
    let payload = c.to_string();
    let dup_header = r#"{"alg":"EdDSA","typ":"JWT","kid":"nope","kid":"k1"}"#;
    s.expect(
        &s.key.sign_raw(dup_header, &payload),
        "unauthorized",
        "dup kid",
    )
    .await;
    let dup_alg = r#"{"alg":"none","alg":"EdDSA","kid":"k1"}"#;
    s.expect(
        &s.key.sign_raw(dup_alg, &payload),
        "unauthorized",
        "dup alg",
    )
    .await;

    let dup_sub = payload.replacen(r#""sub":"42""#, r#""sub":"1","sub":"42""#, 1);
    assert_ne!(dup_sub, payload);
    s.expect(
        &s.key.sign_raw(&s.key.header(), &dup_sub),
        "unauthorized",
        "dup sub",
    )
    .await;
    let nested = payload.replacen('{', r#"{"ext":{"a":{"b":1,"b":2}},"#, 1);
    s.expect(
        &s.key.sign_raw(&s.key.header(), &nested),
        "unauthorized",
        "nested dup",
    )
    .await;
    let fine = payload.replacen('{', r#"{"ext":{"a":{"b":1,"c":2}},"#, 1);
    s.expect_ok(
        &s.key.sign_raw(&s.key.header(), &fine),
        "control: nested, no dup",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_kid_is_refused_after_one_rate_limited_refetch() {
    let s = setup().await;
    let stranger = TestKey::generate("k-unknown");
    let before = s.jwks.hits();

    for _ in 0..5 {
        s.expect(
            &stranger.token("42", &["customer"]),
            "unauthorized",
            "unknown kid",
        )
        .await;
    }

    let refetches = s.jwks.hits() - before;
    assert_eq!(refetches, 1, "a burst of unknown kids costs one JWKS fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_key_does_not_verify_other_algorithms() {
    let s = setup().await;
    let payload = claims("42", &["customer"]).to_string();
    for alg in ["ES256", "RS256"] {
        let header = json!({"alg": alg, "kid": "k1"}).to_string();
        s.expect(&s.key.sign_raw(&header, &payload), "unauthorized", alg)
            .await;
    }
}
