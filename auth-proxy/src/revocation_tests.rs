use super::*;

fn list() -> Denylist {
    Denylist::new(900, 5, Arc::new(Metrics::new().expect("metrics")))
}

#[test]
fn parses_both_message_kinds() {
    let j: Revocation = serde_json::from_str(r#"{"kind":"jti","jti":"a","exp":10}"#).expect("jti");
    assert_eq!(
        j,
        Revocation::Jti {
            jti: "a".into(),
            exp: 10
        }
    );
    let u: Revocation =
        serde_json::from_str(r#"{"kind":"user","sub":"42","before":7}"#).expect("user");
    assert_eq!(
        u,
        Revocation::User {
            sub: "42".into(),
            before: 7
        }
    );
    assert!(serde_json::from_str::<Revocation>(r#"{"kind":"other"}"#).is_err());
}

#[test]
fn jti_and_user_entries_revoke() {
    let l = list();
    l.apply(Revocation::Jti {
        jti: "t1".into(),
        exp: 1000,
    });
    l.apply(Revocation::User {
        sub: "42".into(),
        before: 500,
    });
    assert!(l.is_revoked("t1", "7", 100));
    assert!(!l.is_revoked("t2", "7", 100));
    assert!(l.is_revoked("t2", "42", 500), "iat == before is revoked");
    assert!(
        !l.is_revoked("t2", "42", 501),
        "issued after the revocation"
    );
    assert_eq!(l.len(), 2);
}

#[test]
fn later_user_revocation_wins_and_old_entries_are_pruned() {
    let l = list();
    l.apply(Revocation::User {
        sub: "42".into(),
        before: 500,
    });
    l.apply(Revocation::User {
        sub: "42".into(),
        before: 400,
    });
    assert!(l.is_revoked("x", "42", 450));
    l.merge(
        vec![("t1".into(), 1000.0)],
        vec![("9".into(), 2000.0)],
        1004,
    );
    assert!(l.is_revoked("t1", "1", 0), "exp + leeway not yet passed");
    l.prune(1005);
    assert!(!l.is_revoked("t1", "1", 0));
    assert!(
        l.is_revoked("x", "42", 450),
        "a token issued at 450 may still live"
    );
    l.prune(500 + 900 + 5);
    assert!(
        !l.is_revoked("x", "42", 450),
        "user entry older than any live token"
    );
    assert!(l.is_revoked("x", "9", 1999));
    assert_eq!(l.len(), 1);
}
