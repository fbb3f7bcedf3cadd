//! The mall's one description (mall.toml at the repository root) and the files generated
//! from it (STYLE.md 17, like rust-analyzer's `codegen --check`): auth-proxy's policy,
//! nginx's routing snippets and compose's slot upstreams, the local runtime's part table,
//! and the Helm chart's parts, cluster upstreams and database setup
//! (deploy/helm/mall/files). Each generated file is a pure function of the parsed,
//! validated description; they are checked in, and this crate's tests fail when one is
//! stale.
//!
//! compose/docker-compose.yml is generated in part: its per-slot services are a region
//! between marker comments, rendered from the description and the rest of the file.
//!
//! The binary (`cargo run -p mall-desc -- generate [--check]`) is a thin shell over
//! [`generate_all`], [`stale`] and [`write`]; the operator CLI is meant to call them too.

pub mod model;
pub mod render;
pub mod validate;

use std::fs;
use std::path::{Path, PathBuf};

pub use model::Mall;
pub use render::GENERATOR;
pub use validate::{validate, Problems};

/// The description's file name, at the repository root.
pub const DESCRIPTION: &str = "mall.toml";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("mall.toml: {0}")]
    Syntax(#[from] toml::de::Error),
    #[error(transparent)]
    Invalid(#[from] Problems),
    #[error("{0}")]
    Region(String),
}

/// One generated file: its path relative to the repository root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub path: String,
    pub text: String,
}

/// Parses and validates a description.
pub fn parse(text: &str) -> Result<Mall, Error> {
    let mall: Mall = toml::from_str(text)?;
    validate(&mall)?;
    Ok(mall)
}

/// Reads, parses and validates `<root>/mall.toml`.
pub fn load(root: &Path) -> Result<Mall, Error> {
    let path = root.join(DESCRIPTION);
    let text = fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?;
    parse(&text)
}

/// Every generated file: [`generate`]'s, and those generated in part (their hand-written
/// rest read from under `root`).
pub fn generate_all(root: &Path, mall: &Mall) -> Result<Vec<Generated>, Error> {
    let mut files = generate(mall);
    let path = root.join(render::compose::PATH);
    let current = fs::read_to_string(&path).map_err(|source| Error::Read { path, source })?;
    files.push(Generated {
        path: render::compose::PATH.to_owned(),
        text: render::compose::render(mall, &current).map_err(Error::Region)?,
    });
    Ok(files)
}

/// Every file generated from the description alone.
pub fn generate(mall: &Mall) -> Vec<Generated> {
    let file = |path: &str, text: String| Generated {
        path: path.to_owned(),
        text,
    };
    let mut files = vec![
        file("auth-proxy/policy.toml", render::policy::render(mall)),
        file(
            "nginx/snippets/routes-public.conf",
            render::nginx::public(mall),
        ),
        file(
            "nginx/snippets/routes-internal.conf",
            render::nginx::internal(mall),
        ),
        file(render::cli_parts::PATH, render::cli_parts::render(mall)),
        file(render::parts_stack::PATH, render::parts_stack::render(mall)),
        file(
            render::service_routes::PATH,
            render::service_routes::render(mall),
        ),
    ];
    for part in mall.slot_parts() {
        let path = format!("nginx/upstreams/{}.conf", part.name);
        files.push(file(&path, render::upstreams::part(mall, part)));
    }
    files.push(file(
        "nginx/upstreams/select.inc",
        render::upstreams::select(mall),
    ));
    let k8s = render::kubernetes::DIR;
    files.push(file(
        &format!("{k8s}/parts.yaml"),
        render::kubernetes::parts(mall),
    ));
    for part in mall.slot_parts() {
        let path = format!("{k8s}/upstreams/{}.conf", part.name);
        files.push(file(&path, render::kubernetes::upstream(mall, part)));
    }
    files.push(file(
        &format!("{k8s}/upstreams/select.inc"),
        render::kubernetes::select(mall),
    ));
    files.push(file(
        &format!("{k8s}/db-setup.sh"),
        render::kubernetes::db_setup(mall),
    ));
    files
}

/// The generated files whose copy under `root` differs from `files` (or is missing).
pub fn stale(root: &Path, files: &[Generated]) -> Vec<String> {
    files
        .iter()
        .filter(|f| fs::read_to_string(root.join(&f.path)).ok().as_deref() != Some(&f.text))
        .map(|f| f.path.clone())
        .collect()
}

/// Writes the stale ones of `files` under `root`; returns their paths.
pub fn write(root: &Path, files: &[Generated]) -> Result<Vec<String>, Error> {
    let stale = stale(root, files);
    for f in files.iter().filter(|f| stale.contains(&f.path)) {
        let path = root.join(&f.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_owned(),
                source,
            })?;
        }
        let tmp = path.with_extension("generated.tmp");
        // Through a temp file and a rename: a reader never sees half a file.
        fs::write(&tmp, &f.text)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|source| Error::Write { path, source })?;
    }
    Ok(stale)
}
