//! `mall-init secrets`: every secret in one volume per consumer (the compose service
//! `init`; docs/deploy.md "Secrets"). Placeholders are refused before anything is written.

use std::fs;
use std::path::Path;

use anyhow::Context;

pub mod files;
pub mod plan;

use plan::{Env, Line, GRAFANA_UID, SERVICES, SERVICE_UID};

fn say(message: &str) {
    eprintln!("init: {message}");
}

/// Runs the init on `dir`; the exit code (64: a placeholder value).
pub fn run(dir: &Path, env: Env<'_>, owners: bool) -> u8 {
    let all = plan::secrets(env);
    let refused = plan::placeholders(&all);
    if !refused.is_empty() {
        refused.iter().for_each(|r| say(r));
        return crate::EXIT_USAGE;
    }
    match write(dir, &all, env, owners) {
        Ok(lines) => {
            for line in lines {
                match line {
                    Line::Say(text) => say(&text),
                    Line::Loud(text) => {
                        eprintln!("\n*** WARNING (MALL_ENV=production): {text} ***\n")
                    }
                }
            }
            crate::EXIT_OK
        }
        Err(err) => {
            say(&format!("{err:#}"));
            crate::EXIT_FAILED
        }
    }
}

/// Writes the secrets, the signing key, owners and modes; what to say afterwards.
fn write(
    dir: &Path,
    all: &[plan::Secret],
    env: Env<'_>,
    owners: bool,
) -> anyhow::Result<Vec<Line>> {
    let mut generated = Vec::new();
    let mut admin_generated = false;
    for secret in all {
        let path = dir.join(&secret.file);
        if files::put(&path, secret.given.as_deref())? {
            admin_generated |= secret.file == "user/admin-password";
            generated.extend(secret.label.clone());
        }
        if let Some(copy) = &secret.copy_to {
            let value =
                fs::read(&path).with_context(|| format!("while reading {}", path.display()))?;
            files::write_atomic(&dir.join(copy), &value)?;
        }
    }
    let jwt = dir.join("user/jwt");
    files::private_dir(&jwt)?;
    if !files::has_pem(&jwt) {
        user_service::keys::generate_into(&jwt).context("while making the signing key")?;
        generated.push("jwt-signing-key".into());
    }
    files::hand_over(&dir.join("grafana"), GRAFANA_UID, 0, owners)?;
    for svc in SERVICES {
        files::hand_over(&dir.join(svc), SERVICE_UID, SERVICE_UID, owners)?;
    }
    // The database's entrypoint (another user) reads mysql/: readable by all, read-only.
    let mysql = dir.join("mysql");
    files::set_mode(&mysql, 0o755)?;
    for entry in
        fs::read_dir(&mysql).with_context(|| format!("while listing {}", mysql.display()))?
    {
        files::set_mode(&entry.context("while listing mysql/")?.path(), 0o444)?;
    }
    let admin = if admin_generated {
        let path = dir.join("user/admin-password");
        Some(
            fs::read_to_string(&path)
                .with_context(|| format!("while reading {}", path.display()))?,
        )
    } else {
        None
    };
    let email = plan::admin_email(env);
    Ok(plan::report(
        &generated,
        admin.as_deref().map(|pw| (email.as_str(), pw)),
        env,
    ))
}

#[cfg(test)]
mod tests;
