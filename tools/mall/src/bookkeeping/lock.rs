//! One action at a time per host (per state directory): flock(2) on `<state>/lock`, so the
//! kernel releases it when the holder dies, however it dies. Whoever holds it describes
//! itself in `lock.holder`, which a refused or waiting caller prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::{say, Error};

/// The held lock; dropping it removes `lock.holder`, then unlocks.
#[derive(Debug)]
pub struct Lock {
    file: File,
    dir: PathBuf,
}

fn holder(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("lock.holder"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown (no lock.holder)".into())
}

fn open(dir: &Path) -> anyhow::Result<File> {
    std::fs::create_dir_all(dir).with_context(|| format!("while creating {}", dir.display()))?;
    let path = dir.join("lock");
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .with_context(|| format!("while opening {}", path.display()))
}

impl Lock {
    /// Takes the lock for `what`, waiting up to `wait_s` seconds, or fails naming the holder.
    pub fn take(dir: &Path, what: &str, wait_s: u64) -> Result<Self, Error> {
        let file = open(dir)?;
        if !try_lock(&file)? {
            let who = holder(dir);
            if wait_s == 0 {
                return Err(Error::Failed(format!(
                    "another blue/green action holds the lock: {who}. Let it finish (scripts/blue-green status), or pass --wait SECONDS to queue behind it"
                )));
            }
            say::log(&format!(
                "waiting up to {wait_s}s for the lock held by: {who}"
            ));
            let deadline = Instant::now() + Duration::from_secs(wait_s);
            loop {
                crate::signal::check()?;
                std::thread::sleep(Duration::from_millis(200));
                if try_lock(&file)? {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(Error::Failed(format!(
                        "the lock is still held after {wait_s}s by: {}",
                        holder(dir)
                    )));
                }
            }
        }
        let text = format!(
            "pid {} on {}, {}, '{what}', since {}\n",
            std::process::id(),
            super::hostname(),
            super::actor(),
            super::utc_now()
        );
        super::write_atomically(&dir.join("lock.holder"), &text, 0o644)?;
        Ok(Self {
            file,
            dir: dir.to_owned(),
        })
    }
}

fn try_lock(file: &File) -> anyhow::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(err)) => Err(err).context("while taking the lock (flock)"),
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // The holder file goes first: whoever takes the lock next writes its own.
        let _ = std::fs::remove_file(self.dir.join("lock.holder"));
        let _ = self.file.unlock();
    }
}

/// Who holds the lock right now, if anyone (for `status`).
pub fn held_by(dir: &Path) -> Option<String> {
    let path = dir.join("lock");
    let file = OpenOptions::new().append(true).open(path).ok()?;
    match try_lock(&file) {
        Ok(true) => {
            let _ = file.unlock();
            None
        }
        Ok(false) => Some(
            std::fs::read_to_string(dir.join("lock.holder"))
                .map_or_else(|_| "unknown".into(), |h| h.trim().to_owned()),
        ),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_is_refused_naming_the_holder_until_the_first_drops() {
        let dir = std::env::temp_dir().join(format!("mall-lock-{}", super::super::random_hex(4)));
        let first = Lock::take(&dir, "deploy cart v2", 0).unwrap();
        assert!(held_by(&dir).unwrap().contains("'deploy cart v2'"));
        let err = Lock::take(&dir, "deploy cart v3", 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds the lock: pid "), "{err}");
        assert!(err.contains("'deploy cart v2'"), "{err}");
        drop(first);
        assert!(!dir.join("lock.holder").exists());
        assert_eq!(held_by(&dir), None);
        drop(Lock::take(&dir, "deploy cart v3", 0).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
