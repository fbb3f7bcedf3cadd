//! compose/docker-compose.yml's per-slot entries. The file stays hand-written; two regions
//! of it, between marker comments, are generated (like rust-analyzer's sourcegen): the
//! `<part>-blue` / `<part>-green` services of every part with slots, and the edge's
//! `depends_on` (the blue slots, which nginx resolves when it loads its config).

use std::fmt::Write;

use super::{heading, GENERATOR};
use crate::model::{Mall, Part, PartKind};

/// The file, relative to the repository root.
pub const PATH: &str = "compose/docker-compose.yml";

const SLOTS: [&str; 2] = ["blue", "green"];

/// `current` with each generated region rendered anew; `Err` names a region whose markers
/// are missing.
pub fn render(mall: &Mall, current: &str) -> Result<String, String> {
    let text = replace(current, "edge-depends-on", &edge_depends_on(mall))?;
    replace(&text, "slot-services", &slot_services(mall))
}

/// Replaces the lines between `# >>> … : <name>` and `# <<< <name>` (both kept).
fn replace(text: &str, name: &str, body: &str) -> Result<String, String> {
    let begin = format!("# >>> generated from mall.toml (`{GENERATOR}`): {name}");
    let end = format!("# <<< {name}");
    let missing = || format!("{PATH}: no region {name} (marker lines `{begin}` … `{end}`)");
    let start = text.find(&begin).ok_or_else(missing)?;
    let body_start = start + text[start..].find('\n').ok_or_else(missing)? + 1;
    let end_at = body_start + text[body_start..].find(&end).ok_or_else(missing)?;
    // The end marker's own indentation stays in front of it.
    let line_start = text[..end_at].rfind('\n').map_or(0, |i| i + 1);
    Ok(format!(
        "{}{body}{}",
        &text[..body_start],
        &text[line_start..]
    ))
}

fn edge_depends_on(mall: &Mall) -> String {
    let mut out = String::from("    depends_on:\n");
    for p in mall.slot_parts() {
        let _ = write!(
            out,
            "      {}-blue:\n        condition: service_healthy\n",
            p.name
        );
    }
    out
}

fn slot_services(mall: &Mall) -> String {
    let mut out = String::new();
    for p in mall.slot_parts() {
        let title = if p.kind == PartKind::Sidecar {
            "auth sidecar"
        } else {
            &p.name
        };
        let _ = writeln!(out, "{}", heading("  # ", title, 101));
        for slot in SLOTS {
            slot_service(&mut out, mall, p, slot);
            out.push('\n');
        }
    }
    out
}

fn slot_service(out: &mut String, mall: &Mall, p: &Part, slot: &str) {
    let var = format!("{}_{}", p.ident(), slot).to_uppercase();
    // The sidecar has an anchor of its own (it waits for the user service, not for MySQL).
    let anchor = if p.kind == PartKind::Sidecar {
        p.name.as_str()
    } else {
        "service"
    };
    let _ = writeln!(out, "  {}-{slot}:\n    <<: *{anchor}", p.name);
    let mut volumes = Vec::new();
    if p.database.is_some() {
        volumes.push(format!("secrets-{}:/run/mall:ro", p.name));
    }
    // A caller reads the switch's markers, as nginx does (docs/runtime.md "Internal calls").
    let markers = &mall.compose.markers;
    if !p.calls.is_empty() {
        volumes.push(format!("nginx-upstreams:{markers}:ro"));
    }
    if !volumes.is_empty() {
        let _ = writeln!(out, "    volumes: [{}]", volumes.join(", "));
    }
    let _ = write!(
        out,
        "    image: ${{{var}_IMAGE:-mall/{bin}:dev}}\n\
         \x20   build:\n\
         \x20     <<: *build\n\
         \x20     args: {{BIN: {bin}, VERSION: \"${{{var}_VERSION:-dev}}\"}}\n\
         \x20   environment:\n\
         \x20     <<: *{name}-env\n\
         \x20     SLOT_COLOR: {slot}\n\
         \x20     SERVICE_VERSION: ${{{var}_VERSION:-dev}}\n",
        bin = p.binary,
        name = p.name,
    );
    if !p.calls.is_empty() {
        let _ = writeln!(out, "      SLOT_MARKERS: {markers}");
    }
    let port = mall.compose.container_port;
    for callee in &p.calls {
        let var = format!("{}_URL", callee.to_uppercase().replace('-', "_"));
        let _ = writeln!(
            out,
            "      {var}: http://{callee}-blue:{port},http://{callee}-green:{port}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_is_replaced_between_its_markers_and_the_rest_kept() {
        let text = format!(
            "a\n  # >>> generated from mall.toml (`{GENERATOR}`): r\n  old\n  # <<< r\nb\n"
        );
        let out = replace(&text, "r", "  new\n").expect("the region exists");
        assert_eq!(
            out,
            format!(
                "a\n  # >>> generated from mall.toml (`{GENERATOR}`): r\n  new\n  # <<< r\nb\n"
            )
        );
    }

    #[test]
    fn a_missing_region_is_an_error_naming_it() {
        let err = replace("a\nb\n", "slots", "x").expect_err("no markers");
        assert!(err.contains("no region slots"), "{err}");
    }
}
