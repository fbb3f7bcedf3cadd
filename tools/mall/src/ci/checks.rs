//! The static checks that are more than one cargo command: shellcheck, cargo-deny, the
//! compose file, the observability configs, the GitHub workflows.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::ctx::{run, Ctx};
use super::host::compose_cmd;
use crate::say;
use crate::shell::have;

/// Every shell script under `root` (by extension or shebang), sorted; .git, target, var
/// and node_modules left out.
pub fn shell_scripts(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                let pruned = dir == root && [".git", "target", "var"].contains(&name.as_str());
                if !pruned && name != "node_modules" {
                    dirs.push(path);
                }
            } else if kind.is_file() && (name.ends_with(".sh") || shell_shebang(&path)) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The first line is `#!…sh` for sh, bash or dash (`^#!.*\b(ba|da)?sh\b`).
fn shell_shebang(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let first = String::from_utf8_lossy(&head[..n]);
    let first = first.lines().next().unwrap_or("");
    first.starts_with("#!") && is_shell_line(first)
}

pub fn is_shell_line(line: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = line.chars().collect();
    (0..chars.len()).any(|i| {
        ["sh", "bash", "dash"].iter().any(|w| {
            let w: Vec<char> = w.chars().collect();
            let end = i + w.len();
            chars.get(i..end) == Some(&w[..])
                && (i == 0 || !word(chars[i - 1]))
                && chars.get(end).is_none_or(|c| !word(*c))
        })
    })
}

pub fn shellcheck(ctx: &mut Ctx) -> anyhow::Result<()> {
    let files = shell_scripts(&ctx.root);
    if files.is_empty() {
        say::log("no shell scripts found");
        return Ok(());
    }
    let rel: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&ctx.root).unwrap_or(f).display().to_string())
        .collect();
    say::log(&format!("shellcheck: {}", rel.join(" ")));
    let mut c = ctx.cmd("shellcheck");
    c.args(["-x", "-S", "style"]).args(&rel);
    run(c)
}

/// Licences, bans and sources of every crate in Cargo.lock (deny.toml). The advisory
/// database lives on GitHub, which this host may not reach: checked where it can be fetched.
pub fn deny(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut c = ctx.cmd(ctx.venv_bin("cargo-deny"));
    c.args([
        "--log-level",
        "error",
        "check",
        "licenses",
        "bans",
        "sources",
    ]);
    run(c)
}

/// `<compose> [--env-file compose/.env.example] -f compose/docker-compose.yml <args>`.
fn compose(ctx: &Ctx, extra: &[&str]) -> anyhow::Result<std::process::Command> {
    let words = compose_cmd().context("no compose tool (apt-get install -y docker-compose)")?;
    let mut c = ctx.cmd(&words[0]);
    c.args(&words[1..]);
    if ctx.root.join("compose/.env.example").is_file() {
        c.args(["--env-file", "compose/.env.example"]);
    }
    c.args(["-f", "compose/docker-compose.yml"]).args(extra);
    Ok(c)
}

pub fn compose_config(ctx: &mut Ctx) -> anyhow::Result<()> {
    run(compose(ctx, &["config", "-q"])?)
}

/// The Prometheus config, Grafana provisioning and dashboard parse and hang together
/// (scripts/lib/check-observability.py), and the profile's services resolve.
pub fn observability(ctx: &mut Ctx) -> anyhow::Result<()> {
    if !have("python3") {
        bail!("python3 is missing");
    }
    let mut probe = ctx.cmd("python3");
    probe.args(["-c", "import yaml"]);
    if super::ctx::read(probe).is_err() {
        bail!(
            "python3 cannot import yaml: apt-get install -y python3-yaml (or pip install pyyaml)"
        );
    }
    let mut c = ctx.cmd("python3");
    c.arg("scripts/lib/check-observability.py").arg(&ctx.root);
    run(c)?;
    if compose_cmd().is_some() {
        run(compose(
            ctx,
            &["--profile", "observability", "config", "-q"],
        )?)?;
        say::log("compose config -q with --profile observability: ok");
    }
    Ok(())
}

/// Every workflow matches GitHub's workflow schema (check-jsonschema's built-in copy: no
/// download) and passes zizmor's audits with nothing above informational (--offline, the
/// regular persona, --min-severity low, --strict-collection, zizmor's exit code). Inline
/// `# zizmor: ignore[audit]` comments are honoured; each needs a reason next to it.
pub fn workflows(ctx: &mut Ctx) -> anyhow::Result<()> {
    let (schema, zizmor) = (ctx.venv_bin("check-jsonschema"), ctx.venv_bin("zizmor"));
    if !schema.is_file() || !zizmor.is_file() {
        bail!(
            "check-jsonschema or zizmor is missing from {} (mall ci's tools step installs both)",
            super::host::venv_dir().display()
        );
    }
    let dir = ctx.root.join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    files.sort();
    if files.is_empty() {
        say::log("workflows: none under .github/workflows");
        return Ok(());
    }
    let mut failed = false;
    let mut valid = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&ctx.root)
            .unwrap_or(file)
            .display()
            .to_string();
        let mut c = ctx.cmd(&schema);
        c.args(["--builtin-schema", "vendor.github-workflows"])
            .arg(file);
        let out = c
            .output()
            .with_context(|| format!("while running {}", schema.display()))?;
        if out.status.success() {
            say::log(&format!(
                "check-jsonschema: {rel} matches the workflow schema"
            ));
            valid.push(file);
        } else {
            say::warn(&format!("check-jsonschema rejected {rel}:"));
            eprint!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            failed = true;
        }
    }
    // Only the files that match the schema: zizmor refuses the whole run for one it cannot
    // load, which would hide the others' findings. (No Rust backtrace on its errors.)
    if valid.is_empty() {
        bail!("no workflow matches the schema");
    }
    let mut c = ctx.cmd(&zizmor);
    c.env("RUST_BACKTRACE", "0").env("RUST_LIB_BACKTRACE", "0");
    c.args([
        "--quiet",
        "--offline",
        "--strict-collection",
        "--persona",
        "regular",
    ])
    .args([
        "--min-severity",
        "low",
        "--no-progress",
        "--color",
        "never",
        "--format",
        "plain",
    ])
    .args(&valid);
    let out = c
        .output()
        .with_context(|| format!("while running {}", zizmor.display()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        say::log(&format!(
            "zizmor: {}",
            text.trim_end().lines().last().unwrap_or("")
        ));
    } else {
        say::warn("zizmor found problems in the workflows (docs/deploy.md \"How it is tested\"):");
        eprintln!("{}", text.trim_end());
        failed = true;
    }
    if failed {
        bail!("the workflows have problems (above)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_of_shells_count_and_others_do_not() {
        for line in [
            "#!/usr/bin/env bash",
            "#!/bin/sh",
            "#!/bin/dash -e",
            "#!/usr/bin/env sh",
        ] {
            assert!(is_shell_line(line), "{line}");
        }
        for line in [
            "#!/usr/bin/env python3",
            "#!/usr/bin/env zsh",
            "#!/bin/fish",
            "#!/usr/bin/bashful",
        ] {
            assert!(!is_shell_line(line), "{line}");
        }
    }

    #[test]
    fn the_repositorys_scripts_are_found() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let files = shell_scripts(&root);
        let has = |p: &str| files.iter().any(|f| f.ends_with(p));
        assert!(has("scripts/test") && has("scripts/lib/common.sh") && has(".ci/run"));
        assert!(!files
            .iter()
            .any(|f| f.components().any(|c| c.as_os_str() == ".git")));
    }
}
