//! nginx's routing: the public listener's `/api` and `/.well-known` locations and the
//! internal listener's `/internal` and `/_slot` locations, as two snippets that
//! nginx/nginx.conf.template includes inside its `server` blocks.

use std::fmt::Write;

use super::{comment_lines, heading, GENERATOR};
use crate::model::{Listener, Location, Mall};

const WIDTH: usize = 90;

/// The text of nginx/snippets/routes-public.conf.
pub fn public(mall: &Mall) -> String {
    let mut out = header(
        "The public listener's API locations, included by nginx.conf.template's public \
         server. Each proxies to the live slot of its service ($<part>_up, \
         upstreams/select.inc); snippets/api.conf asks auth-proxy first (auth_request), \
         snippets/proxy.conf does not. Paths no location names fall to the template's \
         `location ^~ /api/ { return 404; }`.",
    );
    let mut section: Option<&str> = None;
    let mut block: Vec<&Location> = Vec::new();
    for l in mall
        .locations
        .iter()
        .filter(|l| l.listener == Listener::Public)
    {
        let s = l.section.as_deref().unwrap_or("");
        if section != Some(s) {
            flush(&mut out, section, &block);
            block.clear();
            section = Some(s);
        }
        block.push(l);
    }
    flush(&mut out, section, &block);
    out
}

/// The text of nginx/snippets/routes-internal.conf.
pub fn internal(mall: &Mall) -> String {
    let mut out = header(
        "The internal listener's locations, included by nginx.conf.template's internal \
         server: calls between services, routed to the callee's live slot. No auth \
         subrequest: the callers are the services themselves.",
    );
    let block: Vec<&Location> = mall
        .locations
        .iter()
        .filter(|l| l.listener == Listener::Internal)
        .collect();
    out.push('\n');
    one_liners(&mut out, &block);
    out.push('\n');
    out.push_str(&comment_lines(
        "Which slot nginx sends a part's traffic to: the live slot's ready path through the \
         part's upstream, with its X-Served-By. scripts/blue-green confirms a switch here \
         (auth-proxy's answers never reach clients, so the public routes cannot show it).",
        WIDTH,
    ));
    let width = mall.slot_parts().map(|p| p.name.len()).max().unwrap_or(0);
    for p in mall.slot_parts() {
        let _ = writeln!(
            out,
            "location = /_slot/{:<width$} {{ include snippets/proxy.conf; proxy_pass http://${}_up{}; }}",
            p.name,
            p.ident(),
            p.ready
        );
    }
    out
}

fn header(what: &str) -> String {
    let mut out = format!("# Generated from mall.toml by `{GENERATOR}`; do not edit.\n");
    out.push_str(&comment_lines(what, WIDTH));
    out
}

/// One section: its heading, then its locations (one line each where they fit on one).
fn flush(out: &mut String, section: Option<&str>, block: &[&Location]) {
    let Some(section) = section else { return };
    out.push('\n');
    if !section.is_empty() {
        out.push_str(&heading("# ", section, WIDTH));
        out.push('\n');
    }
    one_liners(out, block);
}

fn one_liners(out: &mut String, block: &[&Location]) {
    let width = block
        .iter()
        .filter_map(|l| l.matcher())
        .map(|m| m.modifier().len() + 1 + m.path().len())
        .max()
        .unwrap_or(0);
    for l in block {
        let Some(m) = l.matcher() else { continue };
        let head = format!("{} {}", m.modifier(), m.path());
        if l.template {
            let _ = writeln!(out, "# location {head}: in nginx.conf.template.");
        }
        if let Some(note) = &l.note {
            out.push_str(&comment_lines(note, WIDTH));
        }
        if l.template {
            continue;
        }
        let body = body(l);
        if l.methods.is_none() {
            let _ = writeln!(out, "location {head:<width$} {{ {} }}", body.join(" "));
        } else {
            let _ = writeln!(out, "location {head} {{");
            if let Some(ms) = &l.methods {
                let _ = writeln!(
                    out,
                    "    if ($request_method !~ ^({})$) {{\n        return 405;\n    }}",
                    ms.join("|")
                );
            }
            for line in body {
                let _ = writeln!(out, "    {line}");
            }
            out.push_str("}\n");
        }
    }
}

/// The directives of a location, one per element.
fn body(l: &Location) -> Vec<String> {
    match (&l.service, l.status) {
        (Some(service), _) => {
            let snippet = if l.asks_auth() { "api" } else { "proxy" };
            vec![
                format!("include snippets/{snippet}.conf;"),
                format!("proxy_pass http://${}_up;", service.replace('-', "_")),
            ]
        }
        (None, Some(status)) => vec![format!("return {status};")],
        (None, None) => Vec::new(),
    }
}
