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

/// The usual order of methods in an `Allow` list; others after them, by name.
fn method_rank(method: &str) -> usize {
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(usize::MAX)
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

    /// When `path` is a route of the policy that `method` does not match: the methods it
    /// has, for a `405` with `Allow` (RFC 9110). `None` when no rule names the path (a `403`,
    /// deny by default) or when a rule takes any method. The routes are the public contract
    /// (docs/openapi.yaml), so naming a route's methods reveals nothing the contract hides.
    pub fn allowed_methods(&self, path: &str) -> Option<String> {
        let mut methods: Vec<&str> = Vec::new();
        for rule in self.rules.iter().filter(|r| r.matches_path(path)) {
            for m in rule.methods()? {
                methods.push(m);
                if m == "GET" {
                    methods.push("HEAD");
                }
            }
        }
        if methods.is_empty() {
            return None;
        }
        methods.sort_by_key(|m| (method_rank(m), *m));
        methods.dedup();
        Some(methods.join(", "))
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests;
