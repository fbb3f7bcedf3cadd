//! auth-proxy/policy.toml: one rule per route, in the description's order (first match wins).

use std::fmt::Write;

use super::{heading, toml_str, GENERATOR};
use crate::model::{Access, AccessKeyword, Mall};

const PREAMBLE: &str = "\
# Route policy of the auth-proxy (format: docs/auth-proxy.md).
#
# Ordered rules, first match wins; a request that matches no rule is refused with 403,
# whoever asks. Paths are matched after normalisation (query dropped, percent-decoding,
# dot segments, duplicate slashes, trailing slash) and are case-sensitive. HEAD matches
# GET rules. `{name}` is exactly one non-empty segment; a trailing `/**` is a subtree.
#
# access: \"public\" (no token looked at), \"authenticated\" (any signed-in user: the
# \"customer\" of API.md), or { roles = [...] } (a token with any of these roles).
# The routes, their order and access are mall.toml's [[route]] entries.
";

/// The text of auth-proxy/policy.toml.
pub fn render(mall: &Mall) -> String {
    let mut out = format!("# Generated from mall.toml by `{GENERATOR}`; do not edit.\n#\n");
    out.push_str(PREAMBLE);
    let mut section = None;
    for r in &mall.routes {
        if section != Some(&r.section) {
            section = Some(&r.section);
            let _ = write!(out, "\n{}\n", heading("# ", &r.section, 90));
        }
        let methods: Vec<String> = r.methods.iter().map(|m| toml_str(m)).collect();
        let _ = write!(
            out,
            "\n[[rule]]\nmethods = [{}]\npath = {}\naccess = {}\n",
            methods.join(", "),
            toml_str(&r.path),
            access(&r.access)
        );
    }
    out
}

fn access(a: &Access) -> String {
    match a {
        Access::Keyword(AccessKeyword::Public) => "\"public\"".into(),
        Access::Keyword(AccessKeyword::Authenticated) => "\"authenticated\"".into(),
        Access::Roles(r) => {
            let roles: Vec<String> = r.roles.iter().map(|x| toml_str(x)).collect();
            format!("{{ roles = [{}] }}", roles.join(", "))
        }
    }
}
