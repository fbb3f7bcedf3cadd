//! The workspace's crate graph, from `cargo metadata --no-deps --format-version 1`: each
//! crate's directory (relative to the root), binaries and the workspace crates its binary
//! is built with.

use serde_json::Value;

/// One workspace crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    pub name: String,
    /// Relative to the workspace root, without a trailing `/` (empty: the root itself).
    pub dir: String,
    pub bins: Vec<String>,
    /// Workspace (path) dependencies of kind normal or build; dev-dependencies are not in
    /// a binary.
    pub deps: Vec<String>,
}

/// The crates of cargo metadata's JSON, their directories relative to its workspace root.
pub fn parse(metadata: &Value) -> Result<Vec<Crate>, String> {
    let bad = |what: &str| format!("cargo metadata: unexpected JSON ({what})");
    let root = metadata["workspace_root"]
        .as_str()
        .ok_or_else(|| bad("workspace_root"))?
        .trim_end_matches('/');
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    let packages = metadata["packages"]
        .as_array()
        .ok_or_else(|| bad("packages"))?;
    let mut crates = Vec::new();
    for p in packages {
        let name = p["name"].as_str().ok_or_else(|| bad("name"))?;
        let manifest = p["manifest_path"]
            .as_str()
            .ok_or_else(|| bad("manifest_path"))?;
        let dir = manifest
            .strip_suffix("Cargo.toml")
            .and_then(|m| m.strip_prefix(root))
            .ok_or_else(|| format!("cargo metadata: {manifest} is not under {root}"))?
            .trim_matches('/');
        let bins = p["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| strs(&t["kind"]).iter().any(|k| k == "bin"))
            .filter_map(|t| t["name"].as_str().map(String::from))
            .collect();
        let deps = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["path"].is_string())
            .filter(|d| matches!(d["kind"].as_str(), None | Some("build")))
            .filter_map(|d| d["name"].as_str().map(String::from))
            .collect();
        crates.push(Crate {
            name: name.to_owned(),
            dir: dir.to_owned(),
            bins,
            deps,
        });
    }
    Ok(crates)
}
