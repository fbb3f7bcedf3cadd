//! The policy's matching rules, on small policies written inline.

use super::*;

fn policy(text: &str) -> Policy {
    Policy::parse(text).expect("valid policy")
}

fn access<'a>(p: &'a Policy, method: &str, path: &str) -> Option<&'a Access> {
    p.find(method, path).map(|m| m.access)
}

const SAMPLE: &str = r#"
    [[rule]]
    methods = ["GET"]
    path = "/api/products/{id}"
    access = "public"

    [[rule]]
    methods = ["POST", "PUT"]
    path = "/api/products/{id}"
    access = { roles = ["admin"] }

    [[rule]]
    methods = ["*"]
    path = "/api/admin/**"
    access = { roles = ["admin", "support"] }

    [[rule]]
    methods = ["GET"]
    path = "/api/cart"
    prefix = true
    access = "authenticated"
"#;

#[test]
fn first_match_wins_and_params_take_one_segment() {
    let p = policy(SAMPLE);
    assert_eq!(access(&p, "GET", "/api/products/7"), Some(&Access::Public));
    assert_eq!(
        access(&p, "PUT", "/api/products/7"),
        Some(&Access::Roles(vec!["admin".into()]))
    );
    assert_eq!(access(&p, "GET", "/api/products"), None);
    assert_eq!(access(&p, "GET", "/api/products/7/stock"), None);
    assert_eq!(access(&p, "DELETE", "/api/products/7"), None);
}

#[test]
fn head_matches_get_rules_only() {
    let p = policy(SAMPLE);
    assert_eq!(access(&p, "HEAD", "/api/products/7"), Some(&Access::Public));
    assert_eq!(access(&p, "OPTIONS", "/api/products/7"), None);
}

#[test]
fn subtree_includes_its_root_and_everything_below() {
    let p = policy(SAMPLE);
    assert!(access(&p, "DELETE", "/api/admin").is_some());
    assert!(access(&p, "GET", "/api/admin/users/1/roles").is_some());
    assert!(access(&p, "GET", "/api/administrator").is_none());
    assert_eq!(
        access(&p, "GET", "/api/cart/items/3"),
        Some(&Access::Authenticated)
    );
}

#[test]
fn matching_is_case_sensitive() {
    let p = policy(SAMPLE);
    assert!(access(&p, "GET", "/API/admin/users").is_none());
    assert!(access(&p, "get", "/api/products/1").is_none());
}

#[test]
fn root_and_catch_all() {
    let p = policy("[[rule]]\nmethods=[\"GET\"]\npath=\"/\"\naccess=\"public\"\n");
    assert!(access(&p, "GET", "/").is_some());
    assert!(access(&p, "GET", "/x").is_none());
    let all = policy("[[rule]]\nmethods=[\"*\"]\npath=\"/**\"\naccess=\"authenticated\"\n");
    assert!(access(&all, "PATCH", "/").is_some());
    assert!(access(&all, "PATCH", "/a/b").is_some());
}

#[test]
fn refuses_bad_files() {
    for bad in [
        "",
        "[[rule]]\nmethods=[]\npath=\"/a\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"get\"]\npath=\"/a\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"a\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a//b\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a/../b\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a/x{id}\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a/b**\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a/**/b\"\naccess=\"public\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a\"\naccess=\"everyone\"",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a\"\naccess={roles=[]}",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a\"\naccess={roles=[\"a,b\"]}",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a\"\naccess=\"public\"\nextra=1",
        "[[rule]]\nmethods=[\"GET\"]\npath=\"/a\"",
        "not toml [",
    ] {
        assert!(Policy::parse(bad).is_err(), "accepted: {bad}");
    }
}

#[test]
fn the_shipped_policy_is_valid_and_denies_by_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("policy.toml");
    let p = Policy::load(&path).expect("shipped policy loads");
    let admin = Access::Roles(vec!["admin".into()]);
    let cases: &[(&str, &str, Option<&Access>)] = &[
        ("GET", "/.well-known/jwks.json", Some(&Access::Public)),
        ("POST", "/api/users/register", Some(&Access::Public)),
        ("POST", "/api/users/login", Some(&Access::Public)),
        ("POST", "/api/users/refresh", Some(&Access::Public)),
        ("POST", "/api/users/logout", Some(&Access::Authenticated)),
        ("GET", "/api/users/me", Some(&Access::Authenticated)),
        ("GET", "/api/admin/users", Some(&admin)),
        ("PUT", "/api/admin/users/5/roles", Some(&admin)),
        ("POST", "/api/admin/users/5/revoke-sessions", Some(&admin)),
        ("GET", "/api/products", Some(&Access::Public)),
        ("HEAD", "/api/products", Some(&Access::Public)),
        ("GET", "/api/products/5", Some(&Access::Public)),
        ("GET", "/api/categories", Some(&Access::Public)),
        ("POST", "/api/products", Some(&admin)),
        ("PUT", "/api/products/5", Some(&admin)),
        ("PATCH", "/api/products/5/stock", Some(&admin)),
        ("DELETE", "/api/products/5", Some(&admin)),
        ("GET", "/api/cart", Some(&Access::Authenticated)),
        ("PUT", "/api/cart/items/5", Some(&Access::Authenticated)),
        ("DELETE", "/api/cart/items/5", Some(&Access::Authenticated)),
        ("DELETE", "/api/cart", Some(&Access::Authenticated)),
        ("POST", "/api/orders", Some(&Access::Authenticated)),
        ("GET", "/api/orders", Some(&Access::Authenticated)),
        ("GET", "/api/orders/5", Some(&Access::Authenticated)),
        ("POST", "/api/orders/5/cancel", Some(&Access::Authenticated)),
        ("GET", "/api/payments/5", Some(&Access::Authenticated)),
        ("GET", "/api/admin/orders", Some(&admin)),
        ("GET", "/api/admin/stats", Some(&admin)),
        // Not in the contract: denied.
        ("GET", "/api/admin/secret", None),
        ("POST", "/api/users/me", None),
        ("GET", "/api/payments", None),
        ("DELETE", "/api/orders/5", None),
        ("GET", "/internal/anything", None),
        ("GET", "/metrics", None),
    ];
    for (method, path, want) in cases {
        assert_eq!(access(&p, method, path), *want, "{method} {path}");
    }
}

#[test]
fn a_known_path_with_another_method_names_its_methods() {
    let p = policy(
        r#"
[[rule]]
methods = ["GET"]
path = "/api/products/{id}"
access = "public"

[[rule]]
methods = ["PUT", "DELETE"]
path = "/api/products/{id}"
access = { roles = ["admin"] }

[[rule]]
methods = ["*"]
path = "/open/**"
access = "public"
"#,
    );
    assert_eq!(
        p.allowed_methods("/api/products/7").as_deref(),
        Some("GET, HEAD, PUT, DELETE")
    );
    assert_eq!(p.allowed_methods("/api/products"), None, "not a route");
    assert_eq!(p.allowed_methods("/api/products/7/x"), None, "not a route");
    assert_eq!(p.allowed_methods("/open/x"), None, "any method is served");
}
