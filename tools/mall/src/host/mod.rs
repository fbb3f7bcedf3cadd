//! What the stack, the tests and the benchmarks need from this host, as pub functions
//! (formerly the bash host.sh, db.sh, common.sh and compose.sh): Debian packages
//! installed with apt-get (saying so), MariaDB and Redis installed, started and signed
//! into, a stack's databases and Redis keys created or dropped, free ports, processes
//! started and stopped by their recorded pids, the compose tool and the images compose
//! runs. Every step says what it does; nothing is done when it is already in place.

pub mod compose;
pub mod data;
mod edge_image;
pub mod images;
pub mod mysql;
pub mod packages;
pub mod ports;
pub mod proc;
pub mod redis;
pub mod vars;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::say;
use crate::shell::{argv, Argv};

/// True when this process runs as root (effective uid 0).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// The command as root: itself when we are root, else through sudo; an error saying what
/// to do when neither is possible.
pub fn as_root(cmd: &[&str]) -> anyhow::Result<Argv> {
    if is_root() {
        Ok(argv(cmd))
    } else if crate::shell::have("sudo") {
        let mut out = argv(&["sudo"]);
        out.extend(argv(cmd));
        Ok(out)
    } else {
        bail!(
            "'{}' needs root and sudo is not installed; run it as root first",
            cmd.join(" ")
        )
    }
}

/// Polls `ready` every 200 ms until it is true (true) or `seconds` have passed (false,
/// with a warning naming `what`). Polling, not sleeping a guessed amount.
pub fn wait_for(
    seconds: u64,
    what: &str,
    mut ready: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<bool> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if ready()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            say::warn(&format!("timed out after {seconds}s waiting for {what}"));
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `bytes` random bytes as lowercase hex (passwords, names of private stacks).
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `n` random bytes from the kernel; should that fail, bytes from the clock and the pid
/// (unique enough for names, which is all a failure leaves them for).
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            ^ u128::from(std::process::id());
        let bytes = nanos.to_le_bytes();
        buf = bytes.iter().cycle().take(n).copied().collect();
    }
    buf
}

/// A new private directory `$TMPDIR/<prefix>.<random>` (mode 0700), kept: the caller
/// removes it (or keeps it for inspection after a failure).
pub fn temp_dir(prefix: &str) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::var_os("TMPDIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let dir = base.join(format!("{prefix}.{}", random_hex(4)));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("while creating {} (is TMPDIR writable?)", dir.display()))?;
    Ok(dir)
}

/// True when the address is this host's (loopback).
pub fn is_local_host(host: &str) -> bool {
    host.starts_with("127.") || host == "localhost" || host == "::1"
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new directory `<TMPDIR>/<prefix>.<random>`.
    pub fn new(prefix: &str) -> anyhow::Result<Self> {
        temp_dir(prefix).map(Self)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_are_local() {
        for h in ["127.0.0.1", "127.1.2.3", "localhost", "::1"] {
            assert!(is_local_host(h), "{h}");
        }
        assert!(!is_local_host("10.0.0.5"));
    }

    #[test]
    fn waiting_stops_at_the_first_success() {
        let mut n = 0;
        assert!(wait_for(5, "n", || {
            n += 1;
            Ok(n == 2)
        })
        .unwrap());
        assert_eq!(n, 2);
    }
}
