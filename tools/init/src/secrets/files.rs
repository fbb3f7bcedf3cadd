//! Writing secret files (atomically, private from the start) and handing trees to their
//! consumers: the filesystem half of `init-secrets`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;

/// Creates `dir` and its parents, private (0700), like `mkdir -p` under umask 077.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("while creating {}", dir.display()))
}

/// Writes `bytes` to `path` through a temporary file (mode 0600) and a rename, so a reader
/// never sees half a secret.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        private_dir(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("while creating {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("while writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("while renaming {}", tmp.display()))
}

/// 32 random hex characters: safe in a DATABASE_URL and in the database's init SQL.
pub fn random_hex() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Puts a secret: the given value, or (when the file is missing or empty) a generated one.
/// True when it generated.
pub fn put(path: &Path, given: Option<&str>) -> anyhow::Result<bool> {
    if let Some(value) = given {
        write_atomic(path, value.as_bytes())?;
        return Ok(false);
    }
    let present = fs::metadata(path).is_ok_and(|m| m.len() > 0);
    if !present {
        write_atomic(path, random_hex()?.as_bytes())?;
    }
    Ok(!present)
}

/// Whether `dir` holds a `*.pem` file (a signing key).
pub fn has_pem(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "pem"))
    })
}

/// Every entry under and including `root`, depth first (symlinks not followed).
fn walk(root: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    out.push(root.to_owned());
    let meta =
        fs::symlink_metadata(root).with_context(|| format!("while reading {}", root.display()))?;
    if meta.is_dir() {
        for entry in
            fs::read_dir(root).with_context(|| format!("while listing {}", root.display()))?
        {
            walk(&entry.context("while listing")?.path(), out)?;
        }
    }
    Ok(())
}

/// `chown -R uid:gid` (when `owners`) and `chmod -R u=rwX,go=`: only the owner reads.
pub fn hand_over(root: &Path, uid: u32, gid: u32, owners: bool) -> anyhow::Result<()> {
    let mut paths = Vec::new();
    walk(root, &mut paths)?;
    for path in paths {
        if owners {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid))
                .with_context(|| format!("while handing {} to {uid}:{gid}", path.display()))?;
        }
        let meta = fs::symlink_metadata(&path)
            .with_context(|| format!("while reading {}", path.display()))?;
        if meta.is_symlink() {
            continue;
        }
        let executable = meta.is_dir() || meta.mode() & 0o111 != 0;
        set_mode(&path, if executable { 0o700 } else { 0o600 })?;
    }
    Ok(())
}

pub fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("while setting the mode of {}", path.display()))
}
