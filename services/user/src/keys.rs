//! Signing keys: Ed25519 PKCS#8 PEM files named `<kid>.pem` in one directory. Every key in
//! the directory is published in the JWKS, so tokens signed by an older key keep verifying
//! until the operator removes it (after the longest token lifetime). The newest key that
//! has been published for the activation delay signs (kids sort by creation time): a new
//! key is in the JWKS before any token carries it, so verifiers that refetch keys at a
//! bounded rate never meet an unknown kid. The directory is rescanned periodically and on
//! SIGHUP, so a rotation (`user-service keygen`) needs no restart.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::EncodingKey;
use serde_json::json;

/// The key that signs now, and the JWKS document of all keys.
pub struct KeySet {
    pub kid: String,
    pub signing: EncodingKey,
    pub jwks: Vec<u8>,
    kids: Vec<String>,
}

pub struct KeyStore {
    dir: PathBuf,
    activation: Duration,
    current: RwLock<Arc<KeySet>>,
}

impl KeyStore {
    /// Loads the directory; with `generate`, creates a first key when there is none.
    pub fn open(dir: &Path, generate: bool, activation: Duration) -> anyhow::Result<Self> {
        let set = match load(dir, activation)? {
            Some(set) => set,
            None if generate => {
                let kid = generate_into(dir)?;
                tracing::info!(kid = %kid, dir = %dir.display(), "generated a first signing key");
                load(dir, activation)?.context("the generated key did not load")?
            }
            None => anyhow::bail!(
                "no signing keys in {} (run `user-service keygen` or set JWT_GENERATE_KEY=true)",
                dir.display()
            ),
        };
        tracing::info!(kid = %set.kid, keys = set.kids.len(), "signing keys loaded");
        Ok(Self {
            dir: dir.to_owned(),
            activation,
            current: RwLock::new(Arc::new(set)),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads when the set of kids changed; a broken directory keeps the old keys.
    pub fn rescan(&self) {
        let current = self.current();
        match load(&self.dir, self.activation) {
            Ok(Some(set)) if set.kids != current.kids || set.kid != current.kid => {
                tracing::info!(kid = %set.kid, keys = set.kids.len(), "signing keys reloaded");
                match self.current.write() {
                    Ok(mut g) => *g = Arc::new(set),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                tracing::error!(dir = %self.dir.display(), "keys directory is empty; keeping the loaded keys")
            }
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "cannot reload signing keys; keeping the loaded keys"
            ),
        }
    }
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= 64
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn load(dir: &Path, activation: Duration) -> anyhow::Result<Option<KeySet>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("while reading {}", dir.display())),
    };
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry.context("while listing the keys directory")?.path();
        let Some(kid) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".pem"))
        else {
            continue;
        };
        if !valid_kid(kid) {
            tracing::warn!(file = %path.display(), "ignoring key file with an invalid kid");
            continue;
        }
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("while reading {}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|_| anyhow::anyhow!("{} is not an Ed25519 PKCS#8 key", path.display()))?;
        let age = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default();
        keys.push((kid.to_owned(), key, pem, age >= activation));
    }
    keys.sort_by(|a, b| b.0.cmp(&a.0));
    // The newest active key; with none active yet (a fresh directory), the oldest, so a
    // key added right after start-up still waits for its activation.
    let Some((kid, _, pem, _)) = keys.iter().find(|k| k.3).or(keys.last()) else {
        return Ok(None);
    };
    let signing =
        EncodingKey::from_ed_pem(pem.as_bytes()).context("while preparing the signing key")?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwks = json!({
        "keys": keys.iter().map(|(kid, key, _, _)| json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
            "kid": kid, "x": b64.encode(key.verifying_key().to_bytes()),
        })).collect::<Vec<_>>()
    });
    Ok(Some(KeySet {
        kid: kid.clone(),
        signing,
        jwks: serde_json::to_vec(&jwks)?,
        kids: keys.iter().map(|k| k.0.clone()).collect(),
    }))
}

/// Creates a new key file (mode 600) and returns its kid.
pub fn generate_into(dir: &Path) -> anyhow::Result<String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("while creating {}", dir.display()))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("while encoding the key: {e}"))?;
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let kid = format!(
        "k{}-{}",
        chrono::Utc::now().format("%Y%m%d%H%M%S%3f"),
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let tmp = dir.join(format!(".{kid}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("while creating {}", tmp.display()))?;
    f.write_all(pem.as_bytes())
        .context("while writing the key")?;
    f.sync_all().context("while syncing the key")?;
    std::fs::rename(&tmp, dir.join(format!("{kid}.pem"))).context("while installing the key")?;
    Ok(kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_key_signs_and_all_are_published() {
        let dir = std::env::temp_dir().join(format!("mall-keys-{}", uuid::Uuid::new_v4().simple()));
        let store = KeyStore::open(&dir, true, Duration::ZERO).expect("open");
        let first = store.current().kid.clone();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = generate_into(&dir).expect("keygen");
        store.rescan();
        let set = store.current();
        assert_eq!(set.kid, second);
        let jwks: serde_json::Value = serde_json::from_slice(&set.jwks).expect("json");
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, vec![second.as_str(), first.as_str()]);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn missing_keys_without_generate_is_an_error() {
        let dir = std::env::temp_dir().join(format!("mall-keys-{}", uuid::Uuid::new_v4().simple()));
        assert!(KeyStore::open(&dir, false, Duration::ZERO).is_err());
    }

    #[test]
    fn a_key_added_right_after_start_up_waits_too() {
        let dir = std::env::temp_dir().join(format!("mall-keys-{}", uuid::Uuid::new_v4().simple()));
        let store = KeyStore::open(&dir, true, Duration::from_secs(10)).expect("open");
        let first = store.current().kid.clone();
        std::thread::sleep(Duration::from_millis(5));
        let second = generate_into(&dir).expect("keygen");
        assert!(second > first, "kids sort by creation time");
        store.rescan();
        assert_eq!(store.current().kid, first);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_new_key_is_published_before_it_signs() {
        let dir = std::env::temp_dir().join(format!("mall-keys-{}", uuid::Uuid::new_v4().simple()));
        let first = generate_into(&dir).expect("keygen");
        let store = KeyStore::open(&dir, false, Duration::from_millis(600)).expect("open");
        assert_eq!(
            store.current().kid,
            first,
            "the only key signs even while young"
        );
        std::thread::sleep(Duration::from_millis(1100));
        let second = generate_into(&dir).expect("keygen");
        store.rescan();
        let set = store.current();
        assert_eq!(set.kid, first, "the new key is not active yet");
        assert!(
            String::from_utf8_lossy(&set.jwks).contains(&second),
            "but it is published"
        );
        std::thread::sleep(Duration::from_millis(700));
        store.rescan();
        assert_eq!(store.current().kid, second);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
