//! Redis: a server answering at MALL_REDIS_URL (a local default one installed and started
//! when missing), and a private stack's keys removed.

use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::{as_root, packages::ensure_packages, wait_for};
use crate::say;
use crate::shell::{self, argv};

fn pong(url: &str) -> bool {
    shell::read(&argv(&["redis-cli", "-u", url, "ping"])).is_some_and(|s| s.trim() == "PONG")
}

/// A URL this host may start a server for: redis://127.0.0.1|localhost[:6379][/n].
pub fn is_default_local(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("redis://") else {
        return false;
    };
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, ""));
    let host_ok = matches!(
        hostport,
        "127.0.0.1" | "localhost" | "127.0.0.1:6379" | "localhost:6379"
    );
    host_ok && db.chars().all(|c| c.is_ascii_digit())
}

/// Redis answers at `url`; a local default one is installed and started when missing.
pub fn ensure_redis(url: &str) -> anyhow::Result<()> {
    ensure_packages(&["redis-cli:redis-tools"])?;
    if pong(url) {
        return Ok(());
    }
    if !is_default_local(url) {
        bail!("Redis does not answer at {url}; only a local one on port 6379 is started automatically");
    }
    ensure_packages(&["redis-server:redis-server"])?;
    say::log("starting Redis (service redis-server start)");
    let _ = shell::read(&as_root(&["service", "redis-server", "start"])?);
    if !wait_for(15, "Redis", || Ok(pong(url)))? {
        bail!("Redis did not start (see /var/log/redis/)");
    }
    Ok(())
}

/// Deletes every key under the prefix (a private stack's clean-up); refuses no prefix.
pub fn delete_prefix(url: &str, prefix: &str) -> anyhow::Result<()> {
    if prefix.is_empty() || prefix == "*" {
        bail!("refusing to delete Redis keys without a prefix");
    }
    let keys = Command::new("redis-cli")
        .args(["-u", url, "--scan", "--pattern", &format!("{prefix}*")])
        .stdin(Stdio::null())
        .output()
        .context("while running redis-cli --scan")?;
    if !keys.status.success() {
        bail!("redis-cli --scan failed at {url}");
    }
    let text = String::from_utf8_lossy(&keys.stdout);
    let keys: Vec<&str> = text.lines().filter(|k| !k.is_empty()).collect();
    for chunk in keys.chunks(100) {
        let mut cmd = argv(&["redis-cli", "-u", url, "del"]);
        cmd.extend(chunk.iter().map(|k| (*k).to_owned()));
        if shell::read(&cmd).is_none() {
            bail!("redis-cli del failed at {url}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_default_server_is_started() {
        for ok in [
            "redis://127.0.0.1:6379/0",
            "redis://localhost",
            "redis://127.0.0.1/3",
        ] {
            assert!(is_default_local(ok), "{ok}");
        }
        for no in [
            "redis://10.0.0.1:6379/0",
            "redis://127.0.0.1:6380/0",
            "rediss://localhost",
        ] {
            assert!(!is_default_local(no), "{no}");
        }
    }
}
