//! services/http/src/filters/routes.rs: every public route's method and path pattern, from
//! which a service names the served methods in the `Allow` header of its own 405.

use std::fmt::Write;

use super::GENERATOR;
use crate::model::Mall;

/// Where the table goes.
pub const PATH: &str = "services/http/src/filters/routes.rs";

/// The text of [`PATH`].
pub fn render(mall: &Mall) -> String {
    let mut out = format!(
        "// Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         //! Every public route of mall.toml as (method, path pattern): a service's 405 names\n\
         //! the methods of its path in `Allow` (RFC 9110). `{{name}}` is one path segment.\n\
         \n\
         pub const ROUTES: &[(&str, &str)] = &[\n"
    );
    for route in &mall.routes {
        for method in &route.methods {
            let _ = writeln!(out, "    ({method:?}, {:?}),", route.path);
        }
    }
    out.push_str("];\n");
    out
}
