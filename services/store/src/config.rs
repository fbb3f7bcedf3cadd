//! The store's flags, flattened into a service's command line: its own database (URL,
//! password file) and Redis (URL, key prefix). A service's default database is
//! `<name>_db` as `<name>_svc` on the local MariaDB (docs/runtime.md).

use secrecy::SecretString;

#[derive(clap::Args, Clone, Debug)]
pub struct StoreArgs {
    /// The service's own database (mysql://user:password@host:port/db). Secret.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,

    /// A file holding the database password, which replaces any password in the database
    /// URL (compose keeps generated passwords in files, never in the environment). The
    /// password must be URL-safe: [A-Za-z0-9._~-].
    #[arg(long, env = "DATABASE_PASSWORD_FILE")]
    pub database_password_file: Option<std::path::PathBuf>,

    /// Redis server.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379/0")]
    pub redis_url: String,

    /// Prefix of every Redis key and channel.
    #[arg(long, env = "REDIS_PREFIX", default_value = "mall:")]
    pub redis_prefix: String,
}

impl StoreArgs {
    /// The database URL of service `name`, with the password file's password when one is
    /// given. Fails with a one-line message (never the secret) when the file cannot be used.
    pub fn database_url(&self, name: &str) -> Result<SecretString, String> {
        let url = self.database_url_or_default(name);
        let Some(path) = &self.database_password_file else {
            return Ok(url);
        };
        let password = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "DATABASE_PASSWORD_FILE {}: cannot read: {e}",
                path.display()
            )
        })?;
        with_password(&url, password.trim_end_matches(['\n', '\r']))
            .map_err(|e| format!("DATABASE_PASSWORD_FILE {}: {e}", path.display()))
    }

    /// The database URL, or the local default for `<name>_svc` on `<name>_db`.
    pub fn database_url_or_default(&self, name: &str) -> SecretString {
        self.database_url.clone().unwrap_or_else(|| {
            SecretString::from(format!("mysql://{name}_svc@127.0.0.1:3306/{name}_db"))
        })
    }
}

/// `url` with its password replaced by `password` (URL-safe characters only, so nothing
/// needs encoding and nothing of the secret ends up in an error message).
fn with_password(url: &SecretString, password: &str) -> Result<SecretString, String> {
    use secrecy::ExposeSecret;
    let url = url.expose_secret();
    if password.is_empty() {
        return Err("the file is empty".into());
    }
    if !password
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._~-".contains(&b))
    {
        return Err("the password must be URL-safe ([A-Za-z0-9._~-])".into());
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("the database URL has no scheme")?;
    let (userinfo, host) = rest
        .split_once('@')
        .ok_or("the database URL names no user (mysql://user@host/db)")?;
    let user = userinfo.split(':').next().unwrap_or_default();
    Ok(SecretString::from(format!(
        "{scheme}://{user}:{password}@{host}"
    )))
}

#[cfg(test)]
mod tests {
    use secrecy::{ExposeSecret, SecretString};

    use super::with_password;

    fn url(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn password_file_replaces_or_adds_the_password() {
        let with = with_password(
            &url("mysql://user_svc:old@mysql:3306/user_db"),
            "n3w-pw_ok.~",
        );
        assert_eq!(
            with.expect("valid").expose_secret(),
            "mysql://user_svc:n3w-pw_ok.~@mysql:3306/user_db"
        );
        let without = with_password(&url("mysql://user_svc@mysql:3306/user_db"), "abc");
        assert_eq!(
            without.expect("valid").expose_secret(),
            "mysql://user_svc:abc@mysql:3306/user_db"
        );
    }

    #[test]
    fn unsafe_or_empty_passwords_are_refused_without_echoing_them() {
        for bad in ["", "a@b", "p/w", "has space", "x:y"] {
            let err = with_password(&url("mysql://u@h/db"), bad).expect_err(bad);
            assert!(bad.is_empty() || !err.contains(bad), "{err}");
        }
        assert!(with_password(&url("mysql-no-scheme"), "abc").is_err());
    }
}
