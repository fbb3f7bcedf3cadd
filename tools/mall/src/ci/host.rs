//! Host helpers of the CI steps (what host.sh, db.sh and common.sh did, in Rust).
//! TO BE MERGED with tools/mall/src/host/ (helper "stack" ports the same helpers there):
//! Debian packages, the test virtualenv, MariaDB with an administrative login, Redis, a
//! free port base, dropping a private stack's data, the compose command.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::ctx::{self, home, read, run, var, Ctx};
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

/// The packages (`cmd:package`; a `cmd` starting with / is a file) whose command is
/// missing; pure, for the test.
pub fn missing<'a>(pairs: &[&'a str], present: impl Fn(&str) -> bool) -> Vec<&'a str> {
    pairs
        .iter()
        .filter_map(|p| p.split_once(':'))
        .filter(|(cmd, _)| !present(cmd))
        .map(|(_, pkg)| pkg)
        .collect()
}

/// Installs what is missing with one apt-get call (update first only when it fails).
pub fn ensure_packages(pairs: &[&str]) -> anyhow::Result<()> {
    let missing = missing(pairs, |c| {
        if c.starts_with('/') {
            std::path::Path::new(c).exists()
        } else {
            have(c)
        }
    });
    if missing.is_empty() {
        return Ok(());
    }
    if !have("apt-get") {
        bail!(
            "missing {} and apt-get is not available; install them first",
            missing.join(" ")
        );
    }
    say::log(&format!("installing with apt-get: {}", missing.join(" ")));
    let install = || -> anyhow::Result<Command> {
        let mut c = as_root("apt-get", &["install", "-y", "-q"])?;
        c.args(&missing).stdout(Stdio::null());
        Ok(c)
    };
    if run(install()?).is_err() {
        let mut update = as_root("apt-get", &["update", "-q"])?;
        update.stdout(Stdio::null());
        run(update)?;
        run(install()?)
            .with_context(|| format!("apt-get could not install {}", missing.join(" ")))?;
    }
    Ok(())
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

/// The compose tool here (v2 plugin or v1 binary), if any.
pub fn compose_cmd() -> Option<Vec<String>> {
    if have("docker")
        && read({
            let mut c = Command::new("docker");
            c.args(["compose", "version"]);
            c
        })
        .is_ok()
    {
        Some(vec!["docker".into(), "compose".into()])
    } else if have("docker-compose") {
        Some(vec!["docker-compose".into()])
    } else {
        None
    }
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

/// Every service's database and users of a private stack, and its Redis keys, dropped;
/// warns about what could not be removed.
pub fn drop_stack_data(ctx: &Ctx, db_prefix: &str, redis_prefix: &str) {
    for svc in ["user", "product", "cart", "order", "payment"] {
        let (db, user) = (
            format!("{db_prefix}{svc}_db"),
            format!("{db_prefix}{svc}_svc"),
        );
        let mut c = mysql_admin(ctx);
        c.arg("-e").arg(format!(
            "DROP DATABASE IF EXISTS `{db}`; DROP USER IF EXISTS '{user}'@'127.0.0.1'; DROP USER IF EXISTS '{user}'@'localhost';"
        ));
        if let Err(err) = run(c) {
            say::warn(&format!("could not drop the {svc} database: {err:#}"));
        }
    }
    if let Err(err) = redis_delete_prefix(ctx, redis_prefix) {
        say::warn(&format!(
            "could not delete the Redis keys under {redis_prefix}: {err:#}"
        ));
    }
}

fn redis_delete_prefix(ctx: &Ctx, prefix: &str) -> anyhow::Result<()> {
    if prefix.is_empty() || prefix == "*" {
        bail!("refusing to delete Redis keys without a prefix");
    }
    let url = ctx.get("MALL_REDIS_URL").unwrap_or_default();
    let mut scan = Command::new("redis-cli");
    scan.args(["-u", &url, "--scan", "--pattern", &format!("{prefix}*")]);
    let keys = ctx::read(scan)?;
    let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
    for chunk in keys.chunks(100) {
        let mut del = Command::new("redis-cli");
        del.args(["-u", &url, "del"]).args(chunk);
        ctx::read(del)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_commands_are_installed() {
        let pairs = ["nginx:nginx", "jq:jq", "/no/such/file:pkg"];
        assert_eq!(missing(&pairs, |c| c == "nginx"), ["jq", "pkg"]);
    }

    #[test]
    fn the_random_names_are_hex() {
        assert_eq!(random_hex(4).len(), 8);
    }
}
