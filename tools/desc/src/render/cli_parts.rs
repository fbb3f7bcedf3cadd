//! tools/mall/src/parts/table.rs: the operator CLI's table of the parts blue/green switches
//! (every part with slots, in mall.toml's order: callees before callers).

use std::fmt::Write;

use super::GENERATOR;
use crate::model::Mall;

/// Where the table goes.
pub const PATH: &str = "tools/mall/src/parts/table.rs";

/// The text of [`PATH`].
pub fn render(mall: &Mall) -> String {
    let parts: Vec<_> = mall.slot_parts().collect();
    let mut out = format!(
        "// Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         //! The parts `deploy` and `rollback` switch: mall.toml's parts with slots, in its order\n\
         //! (callees before callers).\n\
         \n\
         use super::Part;\n\
         \n\
         /// Name, executable, port offset (docs/runtime.md), whether it has a database.\n\
         pub const PARTS: [Part; {}] = [\n",
        parts.len()
    );
    for p in parts {
        let _ = writeln!(
            out,
            "    Part::new({:?}, {:?}, {}, {}),",
            p.name,
            p.binary,
            p.port_offset,
            p.database.is_some()
        );
    }
    out.push_str("];\n");
    out
}
