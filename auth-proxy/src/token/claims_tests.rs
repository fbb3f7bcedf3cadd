use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

const NOW: u64 = 1_700_000_000;

fn rules() -> Rules {
    Rules {
        issuer: "mall".into(),
        audience: "mall-api".into(),
        leeway: 5,
        max_lifetime: 900,
    }
}

fn good() -> serde_json::Value {
    json!({
        "iss": "mall", "aud": "mall-api", "sub": "42", "roles": ["customer"],
        "jti": "0b9c2a4e-8f0e-4b7e-9a51-0c1f3a0e7d11", "iat": NOW - 10, "exp": NOW + 890
    })
}

fn check_text(text: &str) -> Result<Verified, Reason> {
    validate(&URL_SAFE_NO_PAD.encode(text), &rules(), NOW)
}

fn check(v: &serde_json::Value) -> Result<Verified, Reason> {
    check_text(&v.to_string())
}

fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
    let mut v = good();
    v[key] = value;
    v
}

fn without(key: &str) -> serde_json::Value {
    let mut v = good();
    v.as_object_mut().map(|o| o.remove(key));
    v
}

#[test]
fn accepts_the_issuers_claims_and_builds_headers() {
    let v = check(&good()).expect("valid");
    assert_eq!(v.sub, "42");
    assert_eq!(v.roles, vec!["customer".to_owned()]);
    assert_eq!(v.headers.user_id, "42");
    assert_eq!(v.headers.roles, "customer");
    assert_eq!(v.headers.expires, (NOW + 890).to_string().as_str());
    let multi = check(&with("roles", json!(["customer", "admin"]))).expect("valid");
    assert_eq!(multi.headers.roles, "customer,admin");
    assert!(multi.has_any_role(&["admin".to_owned()]));
}

#[test]
fn audience_may_be_an_array_containing_ours() {
    assert!(check(&with("aud", json!(["other", "mall-api"]))).is_ok());
    assert_eq!(
        check(&with("aud", json!(["other"]))).err(),
        Some(Reason::BadAudience)
    );
    assert_eq!(
        check(&with("aud", json!("other"))).err(),
        Some(Reason::BadAudience)
    );
    assert_eq!(
        check(&with("aud", json!([]))).err(),
        Some(Reason::BadClaims)
    );
    assert_eq!(
        check(&with("aud", json!(["mall-api", 1]))).err(),
        Some(Reason::BadClaims)
    );
    assert_eq!(check(&with("aud", json!(7))).err(), Some(Reason::BadClaims));
}

#[test]
fn wrong_issuer_is_refused() {
    assert_eq!(
        check(&with("iss", json!("evil"))).err(),
        Some(Reason::BadIssuer)
    );
    assert_eq!(
        check(&with("iss", json!(["mall"]))).err(),
        Some(Reason::BadClaims)
    );
}

#[test]
fn missing_required_claims_are_refused() {
    for k in ["iss", "aud", "sub", "exp", "iat", "jti"] {
        assert_eq!(check(&without(k)).err(), Some(Reason::BadClaims), "{k}");
    }
    assert!(check(&without("roles")).is_ok(), "no roles means no roles");
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    for (k, v) in [
        ("exp", json!("never")),
        ("exp", json!(1.7e9)),
        ("exp", json!(-1)),
        ("iat", json!("1700000000")),
        ("nbf", json!("now")),
        ("sub", json!(42)),
        ("sub", json!("")),
        ("sub", json!("4 2")),
        ("sub", json!("42\r\nX-Evil: 1")),
        ("jti", json!(null)),
        ("roles", json!("admin")),
        ("roles", json!(["admin", 1])),
        ("roles", json!(["admin,customer"])),
        ("roles", json!([{"name": "admin"}])),
    ] {
        assert_eq!(
            check(&with(k, v.clone())).err(),
            Some(Reason::BadClaims),
            "{k}={v}"
        );
    }
}

#[test]
fn time_claims_are_checked_with_leeway() {
    assert_eq!(
        check(&with("exp", json!(NOW - 5))).err(),
        Some(Reason::Expired),
        "expired beyond leeway"
    );
    assert!(check(&with("exp", json!(NOW - 4))).is_ok(), "within leeway");
    assert_eq!(
        check(&with("nbf", json!(NOW + 60))).err(),
        Some(Reason::NotYetValid)
    );
    assert!(check(&with("nbf", json!(NOW + 5))).is_ok());
    let mut future = good();
    future["iat"] = json!(NOW + 60);
    future["exp"] = json!(NOW + 900);
    assert_eq!(check(&future).err(), Some(Reason::IssuedInFuture));
}

#[test]
fn lifetime_is_bounded() {
    let mut long = good();
    long["exp"] = json!(NOW - 10 + 3600);
    assert_eq!(check(&long).err(), Some(Reason::LifetimeTooLong));
    let mut backwards = good();
    backwards["exp"] = json!(NOW - 20);
    assert!(check(&backwards).is_err());
}

#[test]
fn duplicate_claims_are_refused() {
    let text = good()
        .to_string()
        .replacen("\"sub\":\"42\"", "\"sub\":\"42\",\"sub\":\"1\"", 1);
    assert!(text.contains("\"sub\":\"1\""));
    assert_eq!(check_text(&text).err(), Some(Reason::BadClaims));
    let nested = good()
        .to_string()
        .replacen('}', r#","x":{"a":1,"a":2}}"#, 1);
    assert_eq!(check_text(&nested).err(), Some(Reason::BadClaims));
}

#[test]
fn payload_must_be_a_json_object() {
    assert_eq!(check_text("[1]").err(), Some(Reason::BadClaims));
    assert_eq!(check_text("not json").err(), Some(Reason::BadClaims));
    assert_eq!(validate("!!", &rules(), NOW).err(), Some(Reason::BadClaims));
}
