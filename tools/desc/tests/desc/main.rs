//! mall-desc's tests against the repository: the generated files are fresh, docs/openapi.yaml
//! agrees with the routes, the services' default ports with the offsets, and a bad
//! description is refused with a message that names the fault.

// Test helpers state what they expect with expect(): a failed setup step fails the test.
#![allow(clippy::expect_used)]

mod fresh;
mod kubernetes;
mod openapi;
mod ports;
mod storefront;
mod validation;

use std::path::{Path, PathBuf};

/// The repository root (this crate is tools/desc).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's mall.toml, as text.
pub fn description() -> String {
    std::fs::read_to_string(root().join("mall.toml")).expect("mall.toml is readable")
}
