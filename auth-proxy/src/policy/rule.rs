//! One policy rule: its methods, its path pattern and the matching of a normalised path.

use std::sync::Arc;

use super::{Access, AccessSpec, RolesSpec, RuleSpec};

#[derive(Clone, Debug)]
pub(super) struct Rule {
    /// `None` means any method.
    methods: Option<Vec<String>>,
    pub(super) pattern: Arc<str>,
    segments: Vec<Segment>,
    subtree: bool,
    pub(super) access: Access,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one non-empty segment.
    Param,
}

// === impl Rule ===

impl Rule {
    pub(super) fn from_spec(spec: RuleSpec) -> Result<Self, (String, String)> {
        let pattern: Arc<str> = Arc::from(spec.path.as_str());
        let fail = |m: &str| (spec.path.clone(), m.to_owned());
        let methods = parse_methods(&spec.methods).map_err(|m| fail(&m))?;
        let (segments, subtree) = parse_pattern(&spec.path).map_err(|m| fail(&m))?;
        let access = match spec.access {
            AccessSpec::Keyword(k) if k == "public" => Access::Public,
            AccessSpec::Keyword(k) if k == "authenticated" => Access::Authenticated,
            AccessSpec::Keyword(k) => {
                return Err(fail(&format!(
                    "access must be \"public\", \"authenticated\" or {{ roles = [...] }}, not {k:?}"
                )))
            }
            AccessSpec::Roles(RolesSpec { roles }) => {
                if roles.is_empty() {
                    return Err(fail("roles must not be empty"));
                }
                if let Some(bad) = roles.iter().find(|r| !crate::token::claims::valid_role(r)) {
                    return Err(fail(&format!("invalid role name {bad:?}")));
                }
                Access::Roles(roles)
            }
        };
        Ok(Self {
            methods,
            pattern,
            segments,
            subtree: subtree || spec.prefix,
            access,
        })
    }

    /// The methods the rule names, `None` when it takes any.
    pub(super) fn methods(&self) -> Option<impl Iterator<Item = &str>> {
        self.methods.as_ref().map(|l| l.iter().map(String::as_str))
    }

    pub(super) fn matches_method(&self, method: &str) -> bool {
        match &self.methods {
            None => true,
            Some(list) => list
                .iter()
                .any(|m| m == method || (method == "HEAD" && m == "GET")),
        }
    }

    pub(super) fn matches_path(&self, path: &str) -> bool {
        // The root has no segments; every other normalised path is `/seg(/seg)*`.
        let mut parts = path
            .strip_prefix('/')
            .unwrap_or(path)
            .split('/')
            .filter(|s| !s.is_empty());
        for seg in &self.segments {
            let Some(part) = parts.next() else {
                return false;
            };
            match seg {
                Segment::Literal(lit) if lit != part => return false,
                _ => {}
            }
        }
        self.subtree || parts.next().is_none()
    }
}

fn parse_methods(methods: &[String]) -> Result<Option<Vec<String>>, String> {
    if methods.is_empty() {
        return Err("methods must not be empty (use [\"*\"] for any)".into());
    }
    if methods.iter().any(|m| m == "*") {
        return Ok(None);
    }
    for m in methods {
        if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!("invalid method {m:?} (upper-case token or \"*\")"));
        }
    }
    Ok(Some(methods.to_vec()))
}

/// `/a/{id}/b`, `/a/**` (the subtree at `/a`, `/a` itself included), `/**` (everything).
fn parse_pattern(pattern: &str) -> Result<(Vec<Segment>, bool), String> {
    let Some(rest) = pattern.strip_prefix('/') else {
        return Err("path must start with '/'".into());
    };
    let (body, subtree) = match rest.strip_suffix("**") {
        Some(b) if b.is_empty() || b.ends_with('/') => (b.trim_end_matches('/'), true),
        Some(_) => return Err("'**' must be a whole last segment".into()),
        None => (rest, false),
    };
    if body.is_empty() {
        return Ok((Vec::new(), subtree));
    }
    let mut segments = Vec::new();
    for seg in body.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err("empty, '.' or '..' segment (patterns are normalised paths)".into());
        }
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("bad placeholder {seg:?}"));
            }
            segments.push(Segment::Param);
        } else if seg.contains(['{', '}', '*', '%', '?', '#', '\\']) {
            return Err(format!(
                "segment {seg:?} mixes a literal with special characters"
            ));
        } else {
            segments.push(Segment::Literal(seg.to_owned()));
        }
    }
    Ok((segments, subtree))
}
