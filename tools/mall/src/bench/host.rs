//! What the bench needs of the host, through tools/mall/src/host/ and the stack's
//! settings, with the bench's variables (its own set, the rest inherited).

use anyhow::Result;

pub use crate::host::ports::port_base as free_port_base;
use crate::host::{data, packages};

/// The variables every subprocess of the bench gets (scripts/dev's, the database login).
pub type Env = crate::host::vars::Vars;

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
