//! tools/mall/src/stack/table.rs: the operator CLI's table of every part the stack runs
//! (`mall stack`, scripts/dev), in mall.toml's order: callees before callers.

use std::fmt::Write;

use super::GENERATOR;
use crate::model::{Mall, PartKind};

/// Where the table goes.
pub const PATH: &str = "tools/mall/src/stack/table.rs";

/// The text of [`PATH`].
pub fn render(mall: &Mall) -> String {
    let mut out = format!(
        "// Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         //! Every part the stack runs (`mall stack`, scripts/dev), in mall.toml's order\n\
         //! (callees before callers).\n\
         \n\
         use super::parts::{{Kind, StackPart}};\n\
         \n\
         /// Name, kind, executable, port offset (docs/runtime.md), slots, required, database\n\
         /// (name and user, before MALL_DB_PREFIX), readiness path, the parts it calls.\n\
         pub const STACK_PARTS: [StackPart; {}] = [\n",
        mall.parts.len()
    );
    for p in &mall.parts {
        let kind = match p.kind {
            PartKind::Sidecar => "Sidecar",
            PartKind::Service => "Service",
            PartKind::StandIn => "StandIn",
        };
        let db = p.database.as_ref().map_or("None".to_owned(), |d| {
            format!("Some(({:?}, {:?}))", d.name, d.user)
        });
        let _ = writeln!(
            out,
            "    StackPart {{\n        name: {:?},\n        kind: Kind::{kind},\n        \
             binary: {:?},\n        port_offset: {},\n        slots: {},\n        \
             required: {},\n        database: {db},\n        ready: {:?},\n        \
             calls: &{:?},\n    }},",
            p.name, p.binary, p.port_offset, p.slots, p.required, p.ready, p.calls
        );
    }
    out.push_str("];\n");
    out
}
