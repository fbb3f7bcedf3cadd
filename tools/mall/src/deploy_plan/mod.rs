//! `mall deploy-plan`: which parts a deploy ships between two commits, in deploy order
//! (docs/deploy.md "Order of parts"); the deploy workflow builds and deploys exactly these
//! (.github/workflows/deploy.yml, through scripts/deploy-plan).
//!
//! The changed paths come from `git diff --name-only`, the crate graph from `cargo
//! metadata`, the parts from mall.toml's table (`crate::parts`); the decision is the pure
//! [`decide::plan`].

use std::process::Command;

use anyhow::Context;

use crate::{say, Error};

pub mod decide;
pub mod graph;
#[cfg(test)]
mod tests;

pub use decide::{plan, Plan, DEPLOY_ORDER};

/// `deploy-plan`'s help: one line, and the whole text.
pub const ABOUT_SHORT: &str = "Which parts a deploy ships between two commits, in deploy order";
pub const ABOUT: &str = "\
Prints the parts whose image changed between the commits, one per line, in deploy order:
callees before their callers (user, product, payment, cart, order), then auth-proxy, then
the edge, so a new caller never meets an old callee's API and nginx never routes a path its
services or policy do not know yet (docs/deploy.md \"Order of parts\").

A part's image changes when a file changes in its own crate (outside tests/ and benches/)
or in a workspace crate it depends on (normal or build dependency, transitively, per `cargo
metadata`), or in what every image shares: Cargo.toml, Cargo.lock, rust-toolchain.toml,
compose/Dockerfile, .dockerignore. The edge's image changes with nginx/, web/ (outside
web/tests/), compose/edge/ and tools/edge/ (its entry point, built alone). Changes elsewhere (compose/docker-compose.yml,
compose/mysql-init/, compose/standins/, tools/init/: the stack's init) ship no image and
are listed on stderr as needing a manual step.

Needs git and cargo (not with --all). Exit status: 0 (an empty plan included), 1 when git
or cargo fail or the base commit is unknown, 64 usage.";

/// `deploy-plan [--json] <base> <head> | --all`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "scripts/deploy-plan [--json] <BASE> <HEAD>\n       scripts/deploy-plan [--json] --all"
)]
pub struct Args {
    /// One JSON array instead of lines (for a workflow matrix).
    #[arg(long)]
    pub json: bool,
    /// Every part (a first deploy, or no known base commit).
    #[arg(long, conflicts_with_all = ["base", "head"])]
    pub all: bool,
    /// The commit deployed last.
    #[arg(required_unless_present = "all")]
    pub base: Option<String>,
    /// The commit to deploy.
    #[arg(required_unless_present = "all")]
    pub head: Option<String>,
}

pub fn run(args: &Args, root: &std::path::Path) -> Result<(), Error> {
    let parts: Vec<&str> = match (&args.base, &args.head) {
        (Some(base), Some(head)) if !args.all => {
            let planned = plan_between(root, base, head)?;
            for file in &planned.manual {
                say::warn(&format!(
                    "{file} changed: not part of any image; apply it on the host by hand (docs/deploy.md)"
                ));
            }
            planned.parts
        }
        _ => DEPLOY_ORDER.to_vec(),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&parts).context("while writing JSON")?
        );
    } else {
        parts.iter().for_each(|p| println!("{p}"));
    }
    Ok(())
}

/// The plan for the changes from `base` to `head` in the repository at `root`.
fn plan_between(root: &std::path::Path, base: &str, head: &str) -> Result<Plan, Error> {
    for (what, commit) in [("base", base), ("head", head)] {
        let spec = format!("{commit}^{{commit}}");
        if output(root, "git", &["rev-parse", "--verify", "-q", &spec]).is_err() {
            return Err(Error::Failed(format!(
                "unknown {what} commit {commit} (fetch the whole history, or use --all)"
            )));
        }
    }
    let diff = output(root, "git", &["diff", "--name-only", base, head])?;
    let changed: Vec<String> = diff.lines().map(String::from).collect();
    let metadata = output(
        root,
        "cargo",
        &["metadata", "--no-deps", "--format-version", "1", "--locked"],
    )?;
    let metadata =
        serde_json::from_str(&metadata).context("while reading cargo metadata's JSON")?;
    let crates = graph::parse(&metadata).map_err(Error::Failed)?;
    plan(&changed, &crates).map_err(Error::Failed)
}

/// A command's stdout, run in `root`; its stderr passes through.
fn output(root: &std::path::Path, program: &str, args: &[&str]) -> Result<String, Error> {
    let out = Command::new(program)
        .args(args)
        .current_dir(root)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("while running {program} (is it installed?)"))?;
    if !out.status.success() {
        return Err(Error::Failed(format!(
            "{program} {} failed ({}) in {}",
            args.join(" "),
            out.status,
            root.display()
        )));
    }
    String::from_utf8(out.stdout)
        .with_context(|| format!("while reading {program}'s output"))
        .map_err(Error::from)
}
