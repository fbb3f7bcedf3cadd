//! Blue/green's bookkeeping, the same for every runtime (docs/deploy.md "Status and the
//! audit log"): the per-host lock, the per-part record and the JSON-lines audit log, in
//! the state directory. Formats and paths are the ones scripts/blue-green always wrote.

pub mod audit;
pub mod lock;
pub mod state;

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The time as RFC 3339 UTC, seconds.
pub fn utc_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Who acts: MALL_BG_ACTOR names the real person behind automation (the deploy workflow
/// sets it to the GitHub user and run); otherwise the user behind sudo, or us.
pub fn actor() -> String {
    ["MALL_BG_ACTOR", "SUDO_USER", "USER"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .or_else(|| crate::shell::read(&crate::shell::argv(&["id", "-un"])))
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// This host's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

/// `bytes` random bytes as lowercase hex (an action's id).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // Ids only tell an action's two audit lines apart; the time will do.
        return format!(
            "{:x}",
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
        );
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file through a temp file in its directory and a rename.
pub fn write_atomically(file: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = file.parent().context("a file without a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}", random_hex(4)));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("while creating {}", tmp.display()))?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.set_permissions(std::fs::Permissions::from_mode(mode)))
        .with_context(|| format!("while writing {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("while renaming into {}", file.display()))
}
