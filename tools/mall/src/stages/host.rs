//! Host helpers of the test stages: the stage's environment for its children, free ports,
//! random names, polling, HTTP through curl, the bash libraries' clean-up functions.
//!
//! TO MERGE: helper "stack" ports the same host helpers (free port base, compose command)
//! to tools/mall/src/host/; once it lands these should call it instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::host::ports::port_base as free_port_base;
use crate::host::vars::Vars;
pub use crate::host::{random_hex, temp_dir};
use crate::{say, signal, Error};

/// What a stage's children see: the process environment plus the stage's own settings
/// (set here, never with `std::env::set_var`), minus what it removes.
#[derive(Clone, Debug, Default)]
pub struct Ctx {
    pub root: PathBuf,
    pub vars: Vars,
}

impl Ctx {
    pub fn new(root: PathBuf) -> Self {
        Ctx {
            root,
            ..Ctx::default()
        }
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.vars.set(key, value);
    }

    pub fn remove(&mut self, key: &str) {
        self.vars.remove(key);
    }

    /// A variable as the children see it.
    pub fn get(&self, key: &str) -> Option<String> {
        self.vars.get(key)
    }

    /// A command in the repository with the stage's environment, stdin from /dev/null.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root).stdin(Stdio::null());
        self.vars.apply(&mut c);
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

    /// Stdout of a command when it exits 0 (stderr discarded).
    pub fn read(&self, mut command: Command) -> Option<String> {
        let out = command.stderr(Stdio::null()).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
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

/// Signs in through nginx (`POST <url>/api/users/login`); the access token.
pub fn sign_in(url: &str, email: &str, password: &str) -> Option<String> {
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let login = format!("{url}/api/users/login");
    let args = [
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-d",
        &body,
        &login,
    ];
    curl(&args, 10)
        .and_then(|(_, _, b)| serde_json::from_str::<serde_json::Value>(&b).ok())
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
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
