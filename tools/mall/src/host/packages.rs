//! Debian packages: what is missing is installed with one apt-get call, saying so.

use anyhow::bail;

use super::as_root;
use crate::say;
use crate::shell::{self, Argv};

/// The packages of `pairs` (`command:package`; a command starting with `/` is a file that
/// must exist) whose command is missing here.
pub fn missing(pairs: &[&str]) -> Vec<String> {
    pairs
        .iter()
        .filter_map(|pair| {
            let (cmd, package) = pair.split_once(':').unwrap_or((pair, pair));
            let present = if cmd.starts_with('/') {
                std::path::Path::new(cmd).exists()
            } else {
                shell::have(cmd)
            };
            (!present).then(|| package.to_owned())
        })
        .collect()
}

/// `apt-get install -y -q <packages>` (as root).
pub fn install_cmd(packages: &[String]) -> anyhow::Result<Argv> {
    let mut words = vec!["apt-get", "install", "-y", "-q"];
    words.extend(packages.iter().map(String::as_str));
    as_root(&words)
}

/// Installs the packages whose command is missing (`command:package` pairs), with one
/// apt-get call; `apt-get update` first only when the install fails on a stale list.
pub fn ensure_packages(pairs: &[&str]) -> anyhow::Result<()> {
    let missing = missing(pairs);
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !shell::have("apt-get") {
        bail!("missing {list} and apt-get is not available; install them first");
    }
    say::log(&format!("installing with apt-get: {list}"));
    let install = install_cmd(&missing)?;
    if quiet(&install)? {
        return Ok(());
    }
    quiet(&as_root(&["apt-get", "update", "-q"])?)?;
    if !quiet(&install)? {
        bail!("apt-get could not install {list}");
    }
    Ok(())
}

/// Runs an apt-get command non-interactively, its output discarded (errors shown).
fn quiet(cmd: &[String]) -> anyhow::Result<bool> {
    let (program, args) = cmd.split_first().ok_or_else(|| anyhow::anyhow!("empty"))?;
    let status = std::process::Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .status()?;
    Ok(status.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_missing_is_named() {
        let got = missing(&["sh:dash", "no-such-command-here:foo", "/no/such/file:bar"]);
        assert_eq!(got, ["foo", "bar"]);
    }
}
