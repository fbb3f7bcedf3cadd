//! The `local` runtime: the processes and nginx that `scripts/dev up` started, under
//! MALL_VAR (docs/runtime.md). A version is a label: deploying one snapshots the current
//! build's binary into `$MALL_VAR/releases/<part>/<version>/` (a label that exists is
//! deployed as it was snapshotted, like an image tag). Slot processes are started and
//! stopped by the stack's own `launch_part` and `stop_instances` (crate::stack::launch,
//! which `mall stack` uses too), so a part's environment is written down once.

mod runtime;

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{env_number, Env};
use crate::parts::{Part, Slot};
use crate::shell::{self, quote_line, Runner};
use crate::stack::config::StackConfig;
use crate::Error;

#[derive(Debug)]
pub struct Local {
    root: PathBuf,
    var: PathBuf,
    bin_dir: PathBuf,
    state_dir: PathBuf,
    http_port: u16,
    internal_port: u16,
    port_base: u16,
    runner: Runner,
    /// The stack's settings (`mall stack`): each slot's environment, pid and log files.
    stack: StackConfig,
}

impl Local {
    /// Where a part's version is snapshotted: `$MALL_VAR/releases/<part>/<version>/<binary>`.
    pub(super) fn release_path(&self, part: &crate::parts::Part, version: &str) -> PathBuf {
        self.var
            .join("releases")
            .join(part.name)
            .join(version)
            .join(part.binary)
    }

    /// The settings scripts/dev uses (its `load_config`), from the environment.
    pub fn from_env(root: &Path, env: Env<'_>, runner: Runner) -> Result<Self, Error> {
        let var = env("MALL_VAR")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "var".into());
        let var = root.join(var);
        let http_port = env_number(env, "MALL_HTTP_PORT", 8080u16)?;
        let port_base = env_number(env, "MALL_PORT_BASE", 8100u16)?;
        let internal_port = env_number(env, "MALL_INTERNAL_PORT", http_port.saturating_add(1))?;
        let profile = env("MALL_PROFILE")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "debug".into());
        if profile != "debug" && profile != "release" {
            return Err(Error::Usage(format!(
                "MALL_PROFILE must be debug or release, not {profile}"
            )));
        }
        let target = env("CARGO_TARGET_DIR")
            .filter(|v| !v.is_empty())
            .map_or_else(|| root.join("target"), PathBuf::from);
        let state_dir = super::state_dir(env, var.join("blue-green"));
        let stack = StackConfig::from_env(root, env)?;
        Ok(Self {
            stack,
            root: root.to_owned(),
            bin_dir: target.join(profile),
            var,
            state_dir,
            http_port,
            internal_port,
            port_base,
            runner,
        })
    }

    fn instance(part: &Part, slot: Slot) -> String {
        format!("{}-{slot}", part.name)
    }

    fn upstreams(&self) -> PathBuf {
        self.var.join("nginx/upstreams")
    }

    fn slot_pid(&self, part: &Part, slot: Slot) -> Option<u32> {
        let file = self
            .var
            .join("run")
            .join(format!("{}.pid", Self::instance(part, slot)));
        std::fs::read_to_string(file).ok()?.trim().parse().ok()
    }

    /// Copies a binary into `releases/<part>/<name>/` atomically; the copy's path.
    fn snapshot(&self, src: &Path, part: &Part, name: &str) -> anyhow::Result<String> {
        let dir = self.var.join("releases").join(part.name).join(name);
        let (tmp, dst) = (
            dir.join(format!(".{}.tmp", part.binary)),
            dir.join(part.binary),
        );
        let path = dst.display().to_string();
        if self.runner.dry_run {
            let (d, s, t) = (
                dir.display().to_string(),
                src.display().to_string(),
                tmp.display().to_string(),
            );
            for cmd in [
                vec!["mkdir", "-p", &d],
                vec!["cp", &s, &t],
                vec!["chmod", "755", &t],
                vec!["mv", "-f", &t, &path],
            ] {
                self.runner.show(&quote_line(&shell::argv(&cmd)));
            }
            return Ok(path);
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("while creating {}", dir.display()))?;
        std::fs::copy(src, &tmp)
            .with_context(|| format!("while copying {} to {}", src.display(), tmp.display()))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("while chmod {}", tmp.display()))?;
        std::fs::rename(&tmp, &dst)
            .with_context(|| format!("while renaming into {}", dst.display()))?;
        Ok(path)
    }
}

pub use crate::host::proc::{pid_alive, pid_runs};

fn same_content(a: &Path, b: &Path) -> bool {
    matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
