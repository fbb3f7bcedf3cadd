//! The decision, a pure function: which parts' images the changed paths touch, in deploy
//! order, and which changed paths no image carries (a manual step on the host).

use super::graph::Crate;
use crate::parts::PARTS;

/// Deploy order (docs/deploy.md "Order of parts"): callees before their callers, then
/// auth-proxy, then the edge. A test checks it names every part of mall.toml with slots.
pub const DEPLOY_ORDER: [&str; 7] = [
    "user",
    "product",
    "payment",
    "cart",
    "order",
    "auth-proxy",
    "edge",
];

/// What every image built from compose/Dockerfile shares.
pub const SHARED_INPUTS: [&str; 5] = [
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain.toml",
    "compose/Dockerfile",
    ".dockerignore",
];

/// The edge image (compose/edge/Dockerfile): nginx's config, the storefront, its own files
/// and its entry point (tools/edge, built alone: no workspace file is in it).
const EDGE_INPUTS: [&str; 4] = ["nginx/", "web/", "compose/edge/", "tools/edge/"];
const EDGE_EXCEPT: [&str; 2] = ["web/tests/", "tools/edge/target/"];

/// Changed on the host by hand, never by an image (docs/deploy.md).
const MANUAL: [&str; 4] = [
    "compose/docker-compose.yml",
    "compose/mysql-init/",
    "compose/standins/",
    "tools/init/",
];

/// The paths an image is built from: a path ending in `/` is a directory, any other a
/// file; `except` are paths inside them that are not in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    pub paths: Vec<String>,
    pub except: Vec<String>,
}

/// What a deploy between two commits ships.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// In deploy order.
    pub parts: Vec<&'static str>,
    /// Changed paths no image carries: one warning each.
    pub manual: Vec<String>,
}

/// `path` names `input` (a file) or lies under it (a directory).
fn covers(input: &str, path: &str) -> bool {
    match input.strip_suffix('/') {
        Some(dir) => dir.is_empty() || path.starts_with(input),
        None => path == input,
    }
}

impl Inputs {
    pub fn touched_by(&self, path: &str) -> bool {
        self.paths.iter().any(|i| covers(i, path)) && !self.except.iter().any(|e| covers(e, path))
    }
}

/// The image inputs of a part: the edge's files, or the shared files plus the directory of
/// the crate that builds the part's binary and of every workspace crate it depends on
/// (normal or build dependencies, transitively), without their tests/ and benches/.
pub fn inputs(part: &str, crates: &[Crate]) -> Result<Inputs, String> {
    if part == "edge" {
        return Ok(Inputs {
            paths: EDGE_INPUTS.map(String::from).to_vec(),
            except: EDGE_EXCEPT.map(String::from).to_vec(),
        });
    }
    let binary = PARTS
        .iter()
        .find(|p| p.name == part)
        .map(|p| p.binary)
        .ok_or_else(|| format!("mall.toml has no part {part} with slots"))?;
    let package = crates
        .iter()
        .find(|c| c.bins.iter().any(|b| b == binary))
        .ok_or_else(|| format!("no workspace crate builds the binary {binary} of part {part}"))?;
    let mut seen: Vec<&Crate> = Vec::new();
    let mut todo = vec![package];
    while let Some(c) = todo.pop() {
        if seen.iter().any(|s| s.name == c.name) {
            continue;
        }
        seen.push(c);
        todo.extend(crates.iter().filter(|d| c.deps.contains(&d.name)));
    }
    let dir = |c: &Crate| {
        if c.dir.is_empty() {
            String::new()
        } else {
            format!("{}/", c.dir)
        }
    };
    let mut paths: Vec<String> = SHARED_INPUTS.map(String::from).to_vec();
    let mut except = Vec::new();
    for c in seen {
        paths.push(dir(c));
        except.push(format!("{}tests/", dir(c)));
        except.push(format!("{}benches/", dir(c)));
    }
    Ok(Inputs { paths, except })
}

/// The parts among `DEPLOY_ORDER` whose inputs a changed path touches, and the changed
/// paths that need a manual step.
pub fn plan(changed: &[String], crates: &[Crate]) -> Result<Plan, String> {
    let mut out = Plan::default();
    for part in DEPLOY_ORDER {
        let inputs = inputs(part, crates)?;
        if changed.iter().any(|f| inputs.touched_by(f)) {
            out.parts.push(part);
        }
    }
    out.manual = changed
        .iter()
        .filter(|f| MANUAL.iter().any(|m| covers(m, f)))
        .cloned()
        .collect();
    Ok(out)
}
