//! compose's slot upstreams: nginx/upstreams/<part>.conf (an upstream per slot) and
//! nginx/upstreams/select.inc (which slot is live, per request, from the marker files).
//! The edge image copies them into the nginx-upstreams volume on every start
//! (compose/edge/mall-edge). The local runtime writes the same format with its own
//! loopback addresses when it starts (tools/mall/src/stack/nginx.rs, slot_upstreams).

use std::fmt::Write;

use super::GENERATOR;
use crate::model::{Mall, Part};

const SLOTS: [&str; 2] = ["blue", "green"];

/// The text of nginx/upstreams/<part>.conf for a part with slots.
pub fn part(mall: &Mall, part: &Part) -> String {
    let c = &mall.compose;
    let mut out = format!(
        "# Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         # The slots of {0} in compose; the live one is chosen per request\n\
         # (upstreams/select.inc, marker {0}.green).\n",
        part.name
    );
    for slot in SLOTS {
        let name = format!("{}_{slot}", part.ident());
        let _ = write!(
            out,
            "upstream {name} {{\n\
             \x20   zone upstream_{name} 64k;\n\
             \x20   resolver {} valid=1s ipv6=off;\n\
             \x20   resolver_timeout 2s;\n\
             \x20   server {}-{slot}:{} resolve;\n\
             \x20   keepalive 32;\n\
             \x20   keepalive_timeout 60s;\n\
             }}\n",
            c.resolver, part.name, c.container_port
        );
    }
    out
}

/// The text of nginx/upstreams/select.inc.
pub fn select(mall: &Mall) -> String {
    let dir = &mall.compose.markers;
    let mut out = format!(
        "# Per request, the live slot of every part: its .green marker in {dir}, else blue.\n\
         # Generated from mall.toml by `{GENERATOR}`; do not edit.\n"
    );
    for p in mall.slot_parts() {
        let (name, ident) = (&p.name, p.ident());
        let _ = write!(
            out,
            "set ${ident}_up {ident}_blue;\n\
             if (-f {dir}/{name}.green) {{\n\
             \x20   set ${ident}_up {ident}_green;\n\
             }}\n"
        );
    }
    out
}
