//! scripts/lib/parts.sh: the local runtime's part table (sourced by scripts/lib/stack.sh).

use std::fmt::Write;

use super::GENERATOR;
use crate::model::{Mall, PartKind};

/// The text of scripts/lib/parts.sh.
pub fn render(mall: &Mall) -> String {
    let mut out = format!(
        "#!/usr/bin/env bash\n\
         # Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         # The mall's parts for the local runtime (sourced by scripts/lib/stack.sh).\n\
         # shellcheck disable=SC2034  # used by the scripts that source this file\n"
    );
    let services: Vec<_> = mall
        .parts
        .iter()
        .filter(|p| p.kind != PartKind::Sidecar)
        .collect();
    let name_w = services.iter().map(|p| p.name.len()).max().unwrap_or(0) + 2;
    let bin_w = services.iter().map(|p| p.binary.len()).max().unwrap_or(0) + 2;
    out.push_str(
        "\n# Every service `up` may start: name, binary, port offset (docs/runtime.md), whether it\n\
         # has a database, and its slot (blue, or \"-\" for a part without slots).\n\
         SERVICES=(\n",
    );
    for p in &services {
        let db = if p.database.is_some() { "db" } else { "-" };
        let slot = if p.slots { "blue" } else { "-" };
        let row = format!(
            "{:<name_w$}{:<bin_w$}{:<3}{db:<4}{slot}",
            p.name, p.binary, p.port_offset
        );
        let _ = writeln!(out, "    \"{row}\"");
    }
    out.push_str(")\n");
    let names = |f: &dyn Fn(&crate::model::Part) -> bool| -> String {
        let v: Vec<&str> = mall
            .parts
            .iter()
            .filter(|p| f(p))
            .map(|p| p.name.as_str())
            .collect();
        v.join(" ")
    };
    let _ = write!(
        out,
        "# What `up` starts unless MALL_SERVICES says otherwise: every service above.\n\
         DEFAULT_SERVICES=\"{}\"\n\
         # Parts nginx proxies to: each gets upstreams/<part>.conf, whether it runs or not. These\n\
         # are also the parts scripts/blue-green switches.\n\
         UPSTREAM_PARTS=({})\n\
         # Parts the local stack does not start without.\n\
         REQUIRED_PARTS=({})\n",
        services
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        names(&|p| p.slots),
        names(&|p| p.required),
    );
    for p in mall.parts.iter().filter(|p| p.kind == PartKind::Sidecar) {
        let _ = write!(
            out,
            "# The sidecar, started with every stack: its port offset.\n\
             {}_PORT_OFFSET={}\n",
            p.ident().to_uppercase(),
            p.port_offset
        );
    }
    out
}
