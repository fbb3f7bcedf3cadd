//! What the bench needs of the host, for now through the stack's bash functions
//! (scripts/lib: ensure_packages, ensure_databases, free_port_base, drop_stack_data,
//! launch_part, compose_*), run as a subprocess with the bench's environment. Helper
//! "stack" ports these to tools/mall/src/host/; after that merge this file calls those
//! (TO MERGE: one function each).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The variables every subprocess of the bench gets (scripts/dev's, the database login).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.vars.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => self.vars.push((key.to_owned(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value here, else from our environment, else the default.
    pub fn or_inherit(&mut self, key: &str, default: &str) {
        if self.get(key).is_none() {
            let v = std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned());
            self.set(key, v);
        }
    }

    pub fn apply(&self, cmd: &mut Command) {
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
    }
}

/// Runs `script` after sourcing the operator libraries, with `args` as $1..; its stdout
/// (trimmed), its stderr on ours; fails unless it exits 0.
pub fn bash(root: &Path, env: &Env, script: &str, args: &[&str]) -> Result<String> {
    let prelude = "set -euo pipefail; for f in common db host nginx stack compose; do source \"$MALL_ROOT/scripts/lib/$f.sh\"; done; ";
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("{prelude}{script}"))
        .arg("mall-bench")
        .args(args);
    env.apply(&mut cmd);
    let out = cmd
        .env("MALL_ROOT", root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("while running bash")?;
    if !out.status.success() {
        let first = script.split([' ', ';']).next().unwrap_or(script);
        bail!("the operator library's `{first}` failed (see the lines above)");
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Installs what the bench runs when it is missing (one apt-get call), and for the local
/// runtime makes sure MariaDB and Redis answer; the database login that works goes into
/// `env` (MALL_MYSQL_*: the mall_admin account when root signs in over the socket only).
pub fn ensure_tools(root: &Path, env: &mut Env, local: bool) -> Result<()> {
    bash(
        root,
        env,
        "ensure_packages nginx:nginx envsubst:gettext-base setsid:util-linux timeout:coreutils \
         mysql:mariadb-client redis-cli:redis-tools",
        &[],
    )?;
    if !local {
        return Ok(());
    }
    let out = bash(
        root,
        env,
        "ensure_databases >&2; printf '%s\\n' \"$MALL_MYSQL_HOST\" \"$MALL_MYSQL_PORT\" \
         \"$MALL_MYSQL_ROOT_USER\" \"${MALL_MYSQL_ROOT_PASSWORD:-}\" \"$MALL_REDIS_URL\"",
        &[],
    )?;
    let lines: Vec<&str> = out.lines().collect();
    for (i, key) in [
        "MALL_MYSQL_HOST",
        "MALL_MYSQL_PORT",
        "MALL_MYSQL_ROOT_USER",
        "MALL_MYSQL_ROOT_PASSWORD",
        "MALL_REDIS_URL",
    ]
    .iter()
    .enumerate()
    {
        if let Some(v) = lines.get(i).filter(|v| !v.is_empty()) {
            env.set(key, *v);
        }
    }
    Ok(())
}

/// A MALL_PORT_BASE whose blue, green and nginx ports (+50..+53) are all free.
pub fn free_port_base(root: &Path, env: &Env) -> Result<u16> {
    bash(root, env, "free_port_base", &[])?
        .parse()
        .context("free_port_base printed no number")
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    random_bytes(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if getrandom::fill(&mut buf).is_err() {
        // Names only (a database prefix, a temp dir): the clock is unique enough.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() ^ std::process::id());
        buf = nanos
            .to_le_bytes()
            .iter()
            .cycle()
            .take(n)
            .copied()
            .collect();
    }
    buf
}

/// A new private directory `$TMPDIR/<prefix>.<random>` (mode 0700).
pub fn temp_dir(prefix: &str) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::var_os("TMPDIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let dir = base.join(format!("{prefix}.{}", random_hex(4)));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("while creating {}", dir.display()))?;
    Ok(dir)
}

/// The pids of a process's children (nginx's workers), from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

/// The lines of /proc/loadavg's first three fields.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
