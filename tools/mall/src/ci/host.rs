//! Host helpers of the CI steps (what host.sh, db.sh and common.sh did, in Rust).
//! TO BE MERGED with tools/mall/src/host/ (helper "stack" ports the same helpers there):
//! Debian packages, the test virtualenv, MariaDB with an administrative login, Redis, a
//! free port base, dropping a private stack's data, the compose command.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::ctx::{home, read, var, Ctx};
pub use crate::host::compose::compose_cmd;
pub use crate::host::packages::ensure_packages;
pub use crate::host::ports::port_base as free_port_base;
pub use crate::host::random_hex;
use crate::say;
use crate::shell::have;

pub fn cache_dir() -> PathBuf {
    PathBuf::from(var("XDG_CACHE_HOME").unwrap_or_else(|| format!("{}/.cache", home())))
        .join("mall")
}

pub fn venv_dir() -> PathBuf {
    cache_dir().join("venv")
}

fn is_root() -> bool {
    let mut id = Command::new("id");
    id.arg("-u");
    read(id).is_ok_and(|u| u.trim() == "0")
}

/// `program args` as root (directly, or through sudo).
pub fn as_root(program: &str, args: &[&str]) -> anyhow::Result<Command> {
    let mut c = if is_root() {
        Command::new(program)
    } else if have("sudo") {
        let mut c = Command::new("sudo");
        c.arg(program);
        c
    } else {
        bail!(
            "'{program} {}' needs root and sudo is not installed; run it as root first",
            args.join(" ")
        )
    };
    c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    Ok(c)
}

/// Polls `ok` every 200 ms until it holds or `seconds` pass.
pub fn wait_for(seconds: u64, what: &str, mut ok: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !ok() {
        if Instant::now() >= deadline {
            bail!("timed out after {seconds}s waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

pub fn port_in_use(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// The mysql client as the administrative user, over TCP (the former db.sh's mysql_admin).
pub fn mysql_admin(ctx: &Ctx) -> Command {
    let mut c = Command::new("mysql");
    if let Some(pw) = ctx.get("MALL_MYSQL_ROOT_PASSWORD") {
        c.env("MYSQL_PWD", pw);
    }
    let get = |k: &str| ctx.get(k).unwrap_or_default();
    c.args([
        "--protocol=TCP",
        "-h",
        &get("MALL_MYSQL_HOST"),
        "-P",
        &get("MALL_MYSQL_PORT"),
    ])
    .args([
        "-u",
        &get("MALL_MYSQL_ROOT_USER"),
        "--batch",
        "--skip-column-names",
    ]);
    c
}

pub fn mysql_answers(ctx: &Ctx) -> bool {
    let mut c = mysql_admin(ctx);
    c.args(["-e", "SELECT 1"]);
    read(c).is_ok()
}

/// Every part's database and users of a private stack, and its Redis keys, dropped;
/// warns about what could not be removed.
pub fn drop_stack_data(ctx: &Ctx, db_prefix: &str, redis_prefix: &str) {
    match ctx.env.mysql() {
        Ok(mysql) => {
            crate::host::data::drop_stack_data(
                &mysql,
                db_prefix,
                &ctx.env.redis_url(),
                redis_prefix,
            );
        }
        Err(err) => say::warn(&format!("could not drop the stack's data: {err:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_random_names_are_hex() {
        assert_eq!(random_hex(4).len(), 8);
    }
}
