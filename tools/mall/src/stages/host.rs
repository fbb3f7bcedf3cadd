//! Host helpers of the test stages: the stage's environment for its children, free ports,
//! random names, polling, HTTP through curl, the bash libraries' clean-up functions.
//!
//! TO MERGE: helper "stack" ports the same host helpers (free port base, compose command)
//! to tools/mall/src/host/; once it lands these should call it instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::{say, signal, Error};

/// What a stage's children see: the process environment plus the stage's own settings
/// (set here, never with `std::env::set_var`), minus what it removes.
#[derive(Clone, Debug, Default)]
pub struct Ctx {
    pub root: PathBuf,
    pub env: Vec<(String, String)>,
    pub removed: Vec<String>,
}

impl Ctx {
    pub fn new(root: PathBuf) -> Self {
        Ctx {
            root,
            ..Ctx::default()
        }
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.env.retain(|(k, _)| k != key);
        self.removed.retain(|k| k != key);
        self.env.push((key.to_owned(), value.into()));
    }

    pub fn remove(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
        self.removed.push(key.to_owned());
    }

    /// A variable as the children see it.
    pub fn get(&self, key: &str) -> Option<String> {
        if self.removed.iter().any(|k| k == key) {
            return None;
        }
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(key).ok())
            .filter(|v| !v.is_empty())
    }

    /// A command in the repository with the stage's environment, stdin from /dev/null.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root).stdin(Stdio::null());
        for k in &self.removed {
            c.env_remove(k);
        }
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// `bash <root>/<script> args...`
    pub fn script(&self, script: &str, args: &[&str]) -> Command {
        let mut c = self.cmd("bash");
        c.arg(self.root.join(script)).args(args);
        c
    }

    /// Runs a command, its output on our stderr; true on exit 0.
    pub fn run(&self, command: Command) -> Result<bool, Error> {
        signal::check()?;
        let ok = crate::shell::status_of(command)?;
        signal::check()?;
        Ok(ok)
    }

    /// A function of scripts/lib/ (common.sh, host.sh, db.sh, stack.sh, compose.sh), run in
    /// bash: the clean-up and image helpers not ported yet.
    pub fn bash_lib(&self, call: &[&str]) -> Command {
        let mut c = self.cmd("bash");
        c.arg("-c")
            .arg(
                "set -euo pipefail; for f in common host db nginx stack compose; do \
                 source \"$MALL_ROOT/scripts/lib/$f.sh\"; done; \"$@\"",
            )
            .arg("mall-stage")
            .args(call)
            .env("MALL_ROOT", &self.root);
        c
    }

    /// Stdout of a command when it exits 0 (stderr discarded).
    pub fn read(&self, mut command: Command) -> Option<String> {
        let out = command.stderr(Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return format!(
            "{:0width$x}",
            nanos ^ u128::from(std::process::id()),
            width = n * 2
        )[..n * 2]
            .to_owned();
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A MALL_PORT_BASE whose blue (+0..9), green (+100..109) and nginx (+50..53) ports are
/// free, below the kernel's ephemeral range (scripts/lib/common.sh free_port_base).
pub fn free_port_base() -> anyhow::Result<u16> {
    let low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let mut top = low.saturating_sub(200) / 100;
    if top <= 110 {
        top = 600;
    }
    for _ in 0..50 {
        let mut byte = [0u8; 4];
        let r = getrandom::fill(&mut byte).map(|()| u32::from_le_bytes(byte));
        let base = (100 + r.unwrap_or(7) % (top - 100)) * 100;
        let ports = (base..base + 10)
            .chain(base + 100..base + 110)
            .chain(base + 50..base + 54);
        let all_free = ports
            .into_iter()
            .all(|p| u16::try_from(p).is_ok_and(|p| !crate::runtime::http::port_in_use(p)));
        if let (true, Ok(base)) = (all_free, u16::try_from(base)) {
            return Ok(base);
        }
    }
    bail!("no free port range found (50 tries); stop a stack you left running")
}

/// Polls `check` every 0.2 s until it holds; false (with a warning) after `seconds`.
pub fn wait_for(seconds: u64, what: &str, mut check: impl FnMut() -> bool) -> Result<bool, Error> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        signal::check()?;
        if check() {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            say::warn(&format!("timed out after {seconds}s waiting for {what}"));
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `curl -sS -m <timeout> <args>`: (status, headers, body), or None when nothing answered.
pub fn curl(args: &[&str], timeout_s: u32) -> Option<(u16, String, String)> {
    let out = Command::new("curl")
        .args(["-sS", "-D", "/dev/stderr", "-w", "\n%{http_code}", "-m"])
        .arg(timeout_s.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = stdout.rsplit_once('\n')?;
    let status: u16 = code.trim().parse().ok()?;
    (status != 0).then(|| {
        let headers = String::from_utf8_lossy(&out.stderr).replace('\r', "");
        (status, headers, body.to_owned())
    })
}

/// X-Served-By of one GET (empty when nothing answered).
pub fn served_by(url: &str, extra: &[&str]) -> String {
    let mut args: Vec<&str> = extra.to_vec();
    args.push(url);
    curl(&args, 5)
        .and_then(|(_, headers, _)| crate::shell::header_value(&headers, "x-served-by"))
        .unwrap_or_default()
}

/// Whether `got` matches the glob `want` (only a trailing `*` is special).
pub fn glob_match(want: &str, got: &str) -> bool {
    match want.strip_suffix('*') {
        Some(prefix) => got.starts_with(prefix),
        None => got == want,
    }
}

/// The last `n` lines of a file, for a failure report.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A fresh directory `<TMPDIR>/<prefix>.<random>`.
pub fn temp_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    let base = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let dir = base.join(format!("{prefix}.{}", random_hex(4)));
    std::fs::create_dir_all(&dir).with_context(|| format!("while creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_a_trailing_star_only() {
        assert!(glob_match("cart-blue@*", "cart-blue@v1"));
        assert!(glob_match("product-green@v2", "product-green@v2"));
        assert!(!glob_match("product-green@v2", "product-green@v21"));
        assert!(!glob_match("cart-blue@*", "cart-green@v2"));
    }

    #[test]
    fn the_stage_environment_overrides_and_removes() {
        let mut ctx = Ctx::new(PathBuf::from("/"));
        ctx.set("MALL_STAGE_TEST_A", "1");
        ctx.set("MALL_STAGE_TEST_A", "2");
        ctx.remove("PATH");
        assert_eq!(ctx.get("MALL_STAGE_TEST_A").as_deref(), Some("2"));
        assert_eq!(ctx.get("PATH"), None);
        assert_eq!(random_hex(3).len(), 6);
    }
}
