//! Generated secrets under `$MALL_VAR/secrets` (mode 600): database passwords and the demo
//! admin's password, made on first use and kept.

use anyhow::Context;

use super::config::StackConfig;
use super::parts::StackPart;

/// The content of secrets/<name>, generated (16 random bytes as hex) on first use.
pub fn secret(cfg: &StackConfig, name: &str) -> anyhow::Result<String> {
    let file = cfg.secrets_dir().join(name);
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    let value = current.trim_end_matches('\n');
    if !value.is_empty() {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("while chmod 600 {}", file.display()))?;
        return Ok(value.to_owned());
    }
    let value = crate::host::random_hex(16);
    crate::bookkeeping::write_atomically(&file, &value, 0o600)?;
    Ok(value)
}

/// The part's database and user, unless its password was generated already (then `up`
/// created them): for a part first started by a blue/green deploy.
pub fn ensure_part_db(cfg: &StackConfig, part: &StackPart) -> anyhow::Result<()> {
    let Some((db, user)) = cfg.database(part) else {
        return Ok(());
    };
    let name = format!("db-{}-password", part.name);
    let file = cfg.secrets_dir().join(&name);
    if std::fs::metadata(&file).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let mut mysql = cfg.mysql.clone();
    mysql.ensure()?;
    mysql.ensure_service_db(&db, &user, &secret(cfg, &name)?)
}
