//! What a description must satisfy beyond its syntax. Every problem is reported, not just
//! the first, each as one line naming the part, route or location at fault.

use std::collections::HashSet;
use std::fmt;

use crate::model::{Access, Listener, Location, Mall, Match};

/// The methods a route or location may name (uppercase, as HTTP spells them).
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// The green slot listens 100 ports above the blue one, so offsets stay below that.
const GREEN_SHIFT: u16 = 100;

/// A description that parsed but does not hold together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<String>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mall.toml: {}", self.0.join("; "))
    }
}

impl std::error::Error for Problems {}

/// Checks a parsed description; `Err` lists every problem found.
pub fn validate(mall: &Mall) -> Result<(), Problems> {
    let mut out = Vec::new();
    parts(mall, &mut out);
    routes(mall, &mut out);
    locations(mall, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(Problems(out))
    }
}

fn parts(mall: &Mall, out: &mut Vec<String>) {
    let mut names = HashSet::new();
    let mut offsets = HashSet::new();
    let mut databases = HashSet::new();
    for p in &mall.parts {
        let valid = !p.name.is_empty()
            && p.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            && !p.name.starts_with('-');
        if !valid {
            out.push(format!(
                "part {:?}: a name is lowercase letters and '-'",
                p.name
            ));
        }
        if !names.insert(p.name.as_str()) {
            out.push(format!("part {}: the name is used twice", p.name));
        }
        if !offsets.insert(p.port_offset) {
            out.push(format!(
                "part {}: port offset {} is used twice",
                p.name, p.port_offset
            ));
        }
        if p.port_offset >= GREEN_SHIFT {
            out.push(format!(
                "part {}: port offset must be below {GREEN_SHIFT}",
                p.name
            ));
        }
        for (what, path) in [("health", &p.health), ("ready", &p.ready)] {
            if !path.starts_with('/') {
                out.push(format!(
                    "part {}: {what} path {path:?} must start with /",
                    p.name
                ));
            }
        }
        for callee in &p.calls {
            let slotted = mall.parts.iter().any(|q| &q.name == callee && q.slots);
            if !slotted || callee == &p.name {
                out.push(format!(
                    "part {}: calls {callee:?}, which must be another part with slots",
                    p.name
                ));
            }
        }
        if let Some(db) = &p.database {
            // The local runtime derives both names from the part's (tools/mall/src/stack/config.rs, database).
            if db.name != format!("{}_db", p.ident()) || db.user != format!("{}_svc", p.ident()) {
                out.push(format!(
                    "part {}: database and user must be {0}_db and {0}_svc",
                    p.name
                ));
            }
            if !databases.insert(db.name.as_str()) {
                out.push(format!(
                    "part {}: database {} is used twice",
                    p.name, db.name
                ));
            }
        }
    }
    if mall
        .parts
        .iter()
        .filter(|p| p.kind == crate::model::PartKind::Sidecar)
        .count()
        != 1
    {
        out.push("exactly one part must be the sidecar (auth-proxy)".into());
    }
}

fn routes(mall: &Mall, out: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for r in &mall.routes {
        let at = format!("route {} {}", r.methods.join(","), r.path);
        if mall.part(&r.service).is_none() {
            out.push(format!("{at}: unknown service {:?}", r.service));
        }
        methods(&at, &r.methods, out);
        if !r.path.starts_with('/') {
            out.push(format!("{at}: the path must start with /"));
        }
        if let Access::Roles(roles) = &r.access {
            if roles.roles.is_empty() || roles.roles.iter().any(|x| x.is_empty()) {
                out.push(format!("{at}: roles must be a non-empty list of names"));
            }
        }
        for m in &r.methods {
            if !seen.insert((m.as_str(), r.path.as_str())) {
                out.push(format!("{at}: {m} {} is listed twice", r.path));
            }
        }
        routed(mall, r, &at, out);
    }
}

/// Every route reaches its own service through nginx's public listener, with every method.
fn routed(mall: &Mall, r: &crate::model::Route, at: &str, out: &mut Vec<String>) {
    // A `{name}` segment stands for any one segment: try it with a sample value.
    let sample: Vec<&str> = r
        .path
        .split('/')
        .map(|s| if s.starts_with('{') { "1" } else { s })
        .collect();
    match mall.route_location(Listener::Public, &sample.join("/")) {
        Some(l) if l.service.as_deref() == Some(r.service.as_str()) => {
            let allowed = |m: &String| l.methods.as_ref().is_none_or(|ms| ms.contains(m));
            if !r.methods.iter().all(allowed) {
                out.push(format!(
                    "{at}: its nginx location refuses some of its methods"
                ));
            }
        }
        Some(l) => out.push(format!(
            "{at}: nginx sends it to {} (location {}), not to its service {}",
            l.service.as_deref().unwrap_or("no service"),
            l.matcher().map_or("?", |m| m.path()),
            r.service
        )),
        None => out.push(format!(
            "{at}: no nginx location of the public listener matches it"
        )),
    }
}

fn locations(mall: &Mall, out: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for l in &mall.locations {
        let Some(m) = l.matcher() else {
            out.push(format!(
                "location {l:?}: give exactly one of exact and prefix"
            ));
            continue;
        };
        let at = format!("location {} {}", m.modifier(), m.path());
        if !m.path().starts_with('/') {
            out.push(format!("{at}: the path must start with /"));
        }
        if !seen.insert((l.listener, m)) {
            out.push(format!("{at}: listed twice for the same listener"));
        }
        match (&l.service, l.status) {
            (Some(s), None) if mall.part(s).is_some_and(|p| p.slots) => {}
            (Some(s), None) => out.push(format!("{at}: {s:?} is not a part with slots")),
            (None, Some(status)) if (400..600).contains(&status) => {}
            _ => out.push(format!("{at}: give either a service or an error status")),
        }
        if let Some(ms) = &l.methods {
            methods(&at, ms, out);
        }
        check_location_options(l, &at, out);
    }
}

fn check_location_options(l: &Location, at: &str, out: &mut Vec<String>) {
    if l.listener == Listener::Internal && (l.auth == Some(true) || l.template) {
        out.push(format!(
            "{at}: the internal listener has no auth and no template locations"
        ));
    }
    if l.status.is_some() && (l.auth.is_some() || l.methods.is_some()) {
        out.push(format!("{at}: a status location takes no auth or methods"));
    }
    if matches!(l.matcher(), Some(Match::Prefix(p)) if !p.ends_with('/')) {
        out.push(format!(
            "{at}: a prefix ends with / (else /apix would match /api)"
        ));
    }
}

fn methods(at: &str, methods: &[String], out: &mut Vec<String>) {
    if methods.is_empty() {
        out.push(format!("{at}: no methods"));
    }
    for m in methods {
        if !METHODS.contains(&m.as_str()) {
            out.push(format!(
                "{at}: method {m:?} is not one of {}",
                METHODS.join(", ")
            ));
        }
    }
}
