//! The route policy: an ordered list of rules read from a TOML file, first match wins,
//! deny by default. The format is documented in `docs/auth-proxy.md`.
//!
//! ```toml
//! [[rule]]
//! methods = ["GET"]
//! path = "/api/products/{id}"
//! access = "public"              # or "authenticated", or { roles = ["admin"] }
//! ```

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

mod rule;

use rule::Rule;

/// What a matching rule asks of the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Answered 200 without looking at the token.
    Public,
    /// Any valid, unrevoked token.
    Authenticated,
    /// A valid token carrying at least one of these roles.
    Roles(Vec<String>),
}

/// A loaded, validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    rules: Vec<Rule>,
}

/// The rule a request matched.
#[derive(Debug)]
pub struct Matched<'a> {
    pub access: &'a Access,
    /// The rule's path pattern, for logs (never the raw path).
    pub pattern: &'a Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("while reading the policy file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the policy file {path} is not valid: {message}")]
    Parse { path: String, message: String },
    #[error("rule {index} ({pattern}): {message}")]
    Rule {
        index: usize,
        pattern: String,
        message: String,
    },
}

// --- the file format ---

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    methods: Vec<String>,
    path: String,
    #[serde(default)]
    prefix: bool,
    access: AccessSpec,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AccessSpec {
    Keyword(String),
    Roles(RolesSpec),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesSpec {
    roles: Vec<String>,
}

// === impl Policy ===

impl Policy {
    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            PolicyError::Parse { message, .. } => PolicyError::Parse {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    /// Parses and validates policy text. A policy with no rules is refused: it would deny
    /// everything, which is never what an operator meant.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: File = toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: String::new(),
            message: e.message().to_owned(),
        })?;
        if file.rule.is_empty() {
            return Err(PolicyError::Parse {
                path: String::new(),
                message: "no [[rule]] entries".into(),
            });
        }
        let rules = file
            .rule
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                Rule::from_spec(spec).map_err(|(pattern, message)| PolicyError::Rule {
                    index: i + 1,
                    pattern,
                    message,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// The first rule matching `method` and the normalised `path`. `HEAD` also matches
    /// rules that allow `GET`.
    pub fn find(&self, method: &str, path: &str) -> Option<Matched<'_>> {
        self.rules
            .iter()
            .find(|r| r.matches_method(method) && r.matches_path(path))
            .map(|r| Matched {
                access: &r.access,
                pattern: &r.pattern,
            })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
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
}
