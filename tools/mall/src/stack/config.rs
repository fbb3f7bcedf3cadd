//! The local stack's settings (scripts/dev's variables, `scripts/dev --help`): read once
//! from the environment and checked, with the state directory's layout (docs/runtime.md).

use std::path::{Path, PathBuf};

use super::parts::{default_services, StackPart};
use crate::host::mysql::MysqlAdmin;
use crate::runtime::{env_number, Env};
use crate::Error;

#[derive(Clone, Debug)]
pub struct StackConfig {
    pub root: PathBuf,
    /// MALL_VAR, absolute.
    pub var: PathBuf,
    pub http_port: u16,
    pub internal_port: u16,
    pub port_base: u16,
    pub profile: String,
    /// CARGO_TARGET_DIR/<profile>.
    pub bin_dir: PathBuf,
    pub services: Vec<String>,
    pub db_prefix: String,
    pub redis_prefix: String,
    pub redis_url: String,
    pub mysql: MysqlAdmin,
    pub login_rate: String,
    pub login_burst: String,
    pub trusted_proxy_cidr: String,
    pub nginx_user: Option<String>,
    pub admin_email: String,
    pub worker_threads: String,
    pub rust_log: String,
    pub ready_timeout_s: u64,
    pub stop_timeout_s: u64,
}

impl StackConfig {
    /// The settings, from the environment (scripts/dev's `load_config`); a bad one is a
    /// usage error naming the variable.
    pub fn from_env(root: &Path, env: Env<'_>) -> Result<Self, Error> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let or = |k: &str, d: &str| get(k).unwrap_or_else(|| d.to_owned());
        let var = root.join(or("MALL_VAR", "var"));
        let http_port = env_number(env, "MALL_HTTP_PORT", 8080u16)?;
        let port_base = env_number(env, "MALL_PORT_BASE", 8100u16)?;
        let internal_port = env_number(env, "MALL_INTERNAL_PORT", http_port.saturating_add(1))?;
        let profile = or("MALL_PROFILE", "debug");
        if profile != "debug" && profile != "release" {
            return Err(Error::Usage(format!(
                "MALL_PROFILE must be debug or release, not {profile}"
            )));
        }
        let db_prefix = or("MALL_DB_PREFIX", "");
        if !db_prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::Usage(
                "MALL_DB_PREFIX may hold only a-z, 0-9 and _ (it names databases and users)".into(),
            ));
        }
        let login_rate = or("MALL_LOGIN_RATE", "10r/s");
        if !rate_ok(&login_rate) {
            return Err(Error::Usage(
                "MALL_LOGIN_RATE must look like 10r/s or 60r/m".into(),
            ));
        }
        let services = match get("MALL_SERVICES") {
            Some(list) => list.split_whitespace().map(str::to_owned).collect(),
            None => default_services(),
        };
        let target = get("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        Ok(Self {
            root: root.to_owned(),
            bin_dir: target.join(&profile),
            var,
            http_port,
            internal_port,
            port_base,
            profile,
            services,
            db_prefix,
            redis_prefix: or("REDIS_PREFIX", "mall:"),
            redis_url: or("MALL_REDIS_URL", "redis://127.0.0.1:6379/0"),
            mysql: MysqlAdmin::from_env(env)?,
            login_rate,
            login_burst: or("MALL_LOGIN_BURST", "20"),
            trusted_proxy_cidr: or("MALL_TRUSTED_PROXY_CIDR", "unix:"),
            nginx_user: get("MALL_NGINX_USER"),
            admin_email: or("MALL_ADMIN_EMAIL", "admin@mall.local"),
            worker_threads: or("MALL_WORKER_THREADS", "1"),
            rust_log: or("RUST_LOG", "info"),
            ready_timeout_s: env_number(env, "MALL_READY_TIMEOUT", 90)?,
            stop_timeout_s: env_number(env, "MALL_STOP_TIMEOUT", 20)?,
        })
    }

    /// From the process's environment, MALL_ROOT (or the current directory) the repository.
    pub fn from_process() -> Result<Self, Error> {
        let env = |k: &str| std::env::var(k).ok();
        Self::from_env(&crate::commands::root(), &env)
    }

    pub fn run_dir(&self) -> PathBuf {
        self.var.join("run")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.var.join("log")
    }

    pub fn secrets_dir(&self) -> PathBuf {
        self.var.join("secrets")
    }

    pub fn nginx_dir(&self) -> PathBuf {
        self.var.join("nginx")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.var.join("keys/user")
    }

    pub fn pid_file(&self, inst: &str) -> PathBuf {
        self.run_dir().join(format!("{inst}.pid"))
    }

    pub fn log_file(&self, inst: &str) -> PathBuf {
        self.log_dir().join(format!("{inst}.log"))
    }

    /// The port of a part's slot (nginx: the public one).
    pub fn port_of(&self, name: &str, slot: Option<&str>) -> Option<u16> {
        if name == "nginx" {
            return Some(self.http_port);
        }
        StackPart::find(name).map(|p| p.port(self.port_base, slot))
    }

    /// A part's database and user, with MALL_DB_PREFIX.
    pub fn database(&self, part: &StackPart) -> Option<(String, String)> {
        let (db, user) = part.database?;
        Some((
            format!("{}{db}", self.db_prefix),
            format!("{}{user}", self.db_prefix),
        ))
    }

    /// What `down` needs besides the defaults: `MALL_VAR=... ` when it is not var/.
    pub fn stop_hint(&self) -> String {
        if self.var == self.root.join("var") {
            String::new()
        } else {
            format!("MALL_VAR={} ", self.var.display())
        }
    }
}

/// `10r/s`, `60r/m`: digits, `r/`, s or m.
fn rate_ok(rate: &str) -> bool {
    let Some((n, unit)) = rate.split_once("r/") else {
        return false;
    };
    !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (unit == "s" || unit == "m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<StackConfig, Error> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        StackConfig::from_env(Path::new("/repo"), &|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_scripts_devs() {
        let c = config(&[]).unwrap();
        assert_eq!(c.var, Path::new("/repo/var"));
        assert_eq!(
            (c.http_port, c.internal_port, c.port_base),
            (8080, 8081, 8100)
        );
        assert_eq!(c.bin_dir, Path::new("/repo/target/debug"));
        assert_eq!(c.redis_prefix, "mall:");
        assert_eq!(c.services.len(), 6);
        assert_eq!(c.stop_hint(), "");
        assert_eq!(c.port_of("nginx", None), Some(8080));
    }

    #[test]
    fn a_private_stack_moves_every_path_port_and_name() {
        let c = config(&[
            ("MALL_VAR", "/tmp/stk/var"),
            ("MALL_HTTP_PORT", "18080"),
            ("MALL_PORT_BASE", "18100"),
            ("MALL_DB_PREFIX", "stk_"),
            ("MALL_SERVICES", "user  product"),
            ("CARGO_TARGET_DIR", "/t"),
            ("MALL_PROFILE", "release"),
        ])
        .unwrap();
        assert_eq!(
            c.pid_file("user-blue"),
            Path::new("/tmp/stk/var/run/user-blue.pid")
        );
        assert_eq!(c.internal_port, 18081);
        assert_eq!(c.port_of("payment", Some("green")), Some(18205));
        assert_eq!(c.services, ["user", "product"]);
        assert_eq!(c.bin_dir, Path::new("/t/release"));
        let user = StackPart::find("user").unwrap();
        assert_eq!(
            c.database(user),
            Some(("stk_user_db".into(), "stk_user_svc".into()))
        );
        assert_eq!(c.stop_hint(), "MALL_VAR=/tmp/stk/var ");
    }

    #[test]
    fn bad_settings_are_usage_errors() {
        for pairs in [
            [("MALL_PROFILE", "fast")],
            [("MALL_DB_PREFIX", "Bad-")],
            [("MALL_LOGIN_RATE", "10/s")],
            [("MALL_HTTP_PORT", "eighty")],
        ] {
            assert!(matches!(config(&pairs), Err(Error::Usage(_))), "{pairs:?}");
        }
        assert!(config(&[("MALL_LOGIN_RATE", "60r/m")]).is_ok());
    }
}
