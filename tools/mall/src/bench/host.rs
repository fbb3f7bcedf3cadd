//! What the bench needs of the host, through tools/mall/src/host/ and the stack's
//! settings, with the bench's variables (its own set, the rest inherited).

use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::host::mysql::MysqlAdmin;
pub use crate::host::ports::port_base as free_port_base;
use crate::host::{data, packages};
use crate::stack::config::StackConfig;

/// The variables every subprocess of the bench gets (scripts/dev's, the database login).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.vars.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => self.vars.push((key.to_owned(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value here, else from our environment, else the default.
    pub fn or_inherit(&mut self, key: &str, default: &str) {
        if self.get(key).is_none() {
            let v = std::env::var(key)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned());
            self.set(key, v);
        }
    }

    pub fn apply(&self, cmd: &mut Command) {
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
    }

    /// A variable as the bench's children see it: set here, else inherited.
    pub fn lookup(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(str::to_owned)
            .or_else(|| std::env::var(key).ok())
    }

    /// The database login these variables name (MALL_MYSQL_*).
    pub fn mysql(&self) -> Result<MysqlAdmin> {
        MysqlAdmin::from_env(&|k: &str| self.lookup(k)).map_err(anyhow::Error::from)
    }

    pub fn redis_url(&self) -> String {
        self.lookup("MALL_REDIS_URL")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into())
    }

    /// The stack's settings as scripts/dev reads them from these variables.
    pub fn stack_config(&self, root: &Path) -> Result<StackConfig> {
        StackConfig::from_env(root, &|k: &str| self.lookup(k)).map_err(anyhow::Error::from)
    }
}

/// Installs what the bench runs when it is missing (one apt-get call), and for the local
/// runtime makes sure MariaDB and Redis answer; the database login that works goes into
/// `env` (MALL_MYSQL_*: the mall_admin account when root signs in over the socket only).
pub fn ensure_tools(env: &mut Env, local: bool) -> Result<()> {
    packages::ensure_packages(&[
        "nginx:nginx",
        "envsubst:gettext-base",
        "setsid:util-linux",
        "timeout:coreutils",
        "mysql:mariadb-client",
        "redis-cli:redis-tools",
    ])?;
    if !local {
        return Ok(());
    }
    let mut mysql = env.mysql()?;
    data::ensure_databases(&mut mysql, &env.redis_url())?;
    env.set("MALL_MYSQL_HOST", mysql.host);
    env.set("MALL_MYSQL_PORT", mysql.port);
    env.set("MALL_MYSQL_ROOT_USER", mysql.user);
    if let Some(password) = mysql.password {
        env.set("MALL_MYSQL_ROOT_PASSWORD", password);
    }
    Ok(())
}

/// The databases, users and Redis keys of the bench's stack removed (warnings only).
pub fn drop_stack_data(env: &Env, db_prefix: &str, redis_prefix: &str) -> Result<()> {
    data::drop_stack_data(&env.mysql()?, db_prefix, &env.redis_url(), redis_prefix);
    Ok(())
}

/// The lines of /proc/loadavg's first three fields.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
