//! MySQL/MariaDB: the administrative login (MALL_MYSQL_*; `mall_admin@127.0.0.1` created
//! once over the unix socket where root signs in only there), a service's database with its
//! least-privilege user (docs/runtime.md "Databases"), and their removal.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::{as_root, is_local_host, packages::ensure_packages, random_hex, wait_for};
use crate::runtime::Env;
use crate::say;
use crate::shell::{self, Argv};

/// Privileges of a service's user, on its own database only (no DROP, nothing global).
pub const SERVICE_GRANTS: &str = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, \
REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE";

/// The account that creates databases and users, over TCP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MysqlAdmin {
    pub host: String,
    pub port: String,
    pub user: String,
    pub password: Option<String>,
    /// Where mall_admin's password is kept (MALL_MYSQL_ADMIN_FILE).
    pub admin_file: PathBuf,
}

impl MysqlAdmin {
    /// MALL_MYSQL_HOST [127.0.0.1], _PORT [3306], _ROOT_USER [root], _ROOT_PASSWORD.
    pub fn from_env(env: Env<'_>) -> Result<Self, crate::Error> {
        let get = |k: &str| env(k).filter(|v| !v.is_empty());
        let config = get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| get("HOME").map(|h| PathBuf::from(h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("/root/.config"));
        let port = get("MALL_MYSQL_PORT").unwrap_or_else(|| "3306".into());
        if !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(crate::Error::Usage(format!(
                "MALL_MYSQL_PORT must be a number, not {port}"
            )));
        }
        Ok(Self {
            host: get("MALL_MYSQL_HOST").unwrap_or_else(|| "127.0.0.1".into()),
            port,
            user: get("MALL_MYSQL_ROOT_USER").unwrap_or_else(|| "root".into()),
            password: get("MALL_MYSQL_ROOT_PASSWORD"),
            admin_file: get("MALL_MYSQL_ADMIN_FILE")
                .map_or_else(|| config.join("mall/mysql-admin"), PathBuf::from),
        })
    }

    /// `mysql --protocol=TCP -h … -P … -u … --batch --skip-column-names -e <sql>`.
    pub fn cmd(&self, sql: &str) -> Argv {
        shell::argv(&[
            "mysql",
            "--protocol=TCP",
            "-h",
            &self.host,
            "-P",
            &self.port,
            "-u",
            &self.user,
            "--batch",
            "--skip-column-names",
            "-e",
            sql,
        ])
    }

    /// Runs SQL as the administrative user (the password through MYSQL_PWD, never argv);
    /// its output, or an error with the client's.
    pub fn run(&self, sql: &str) -> anyhow::Result<String> {
        let cmd = self.cmd(sql);
        let mut command = Command::new(&cmd[0]);
        command.args(&cmd[1..]).stdin(Stdio::null());
        if let Some(password) = &self.password {
            command.env("MYSQL_PWD", password);
        }
        let out = command.output().context("while running mysql")?;
        if !out.status.success() {
            bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn answers(&self) -> bool {
        self.run("SELECT 1").is_ok()
    }

    /// Fails with what to set unless the server answers (the client installed).
    pub fn check(&self) -> anyhow::Result<()> {
        if !shell::have("mysql") {
            bail!("the mysql client is not installed (apt-get install -y mariadb-client)");
        }
        if !self.answers() {
            bail!("MySQL/MariaDB does not answer at {}:{} as {} (set MALL_MYSQL_HOST/PORT/ROOT_USER/ROOT_PASSWORD)", self.host, self.port, self.user);
        }
        Ok(())
    }

    /// A server answers with an account that can create databases and users. On loopback
    /// port 3306 MariaDB is installed and started when missing; when root signs in only
    /// over the unix socket, mall_admin is created once (over the socket) and used.
    pub fn ensure(&mut self) -> anyhow::Result<()> {
        if shell::have("mysql") && self.answers() {
            return Ok(());
        }
        if self.password.is_none() {
            if let Ok(saved) = std::fs::read_to_string(&self.admin_file) {
                self.user = "mall_admin".into();
                self.password = Some(saved.trim().to_owned());
                if shell::have("mysql") && self.answers() {
                    return Ok(());
                }
            }
        }
        if !is_local_host(&self.host) {
            bail!("MySQL/MariaDB does not answer at {}:{} as {} (set MALL_MYSQL_ROOT_USER/ROOT_PASSWORD)", self.host, self.port, self.user);
        }
        if self.port != "3306" {
            bail!("nothing answers as {} at {}:{}; only a server on the default port 3306 is installed and started automatically", self.user, self.host, self.port);
        }
        ensure_packages(&["mariadbd:mariadb-server", "mysql:mariadb-client"])?;
        let ping = as_root(&["mysqladmin", "ping", "--silent"])?;
        if shell::read(&ping).is_none() {
            say::log("starting MariaDB (service mariadb start)");
            if !shell::status(&as_root(&["service", "mariadb", "start"])?)? {
                bail!("MariaDB did not start (see /var/log/mysql/)");
            }
        }
        if !wait_for(30, "MariaDB", || Ok(shell::read(&ping).is_some()))? {
            bail!("MariaDB does not answer on its socket");
        }
        if self.answers() {
            return Ok(());
        }
        self.create_admin()
    }

    fn create_admin(&mut self) -> anyhow::Result<()> {
        let password = random_hex(24);
        say::log(&format!("creating the administrative account mall_admin@127.0.0.1 (root signs in over the unix socket only); password in {}", self.admin_file.display()));
        let sql = format!(
            "CREATE USER IF NOT EXISTS 'mall_admin'@'127.0.0.1' IDENTIFIED BY '{password}';\
             ALTER USER 'mall_admin'@'127.0.0.1' IDENTIFIED BY '{password}';\
             GRANT ALL PRIVILEGES ON *.* TO 'mall_admin'@'127.0.0.1' WITH GRANT OPTION;"
        );
        if shell::read(&as_root(&["mysql", "-e", &sql])?).is_none() {
            bail!("could not create mall_admin over the unix socket (is this the server's host, as root?)");
        }
        crate::bookkeeping::write_atomically(&self.admin_file, &password, 0o600)?;
        self.user = "mall_admin".into();
        self.password = Some(password);
        self.run("SELECT 1")
            .map(drop)
            .context("mall_admin cannot sign in over TCP")
    }

    /// The database and its least-privilege user, idempotently; the password (re)set.
    pub fn ensure_service_db(&self, db: &str, user: &str, password: &str) -> anyhow::Result<()> {
        if user.len() > 32 {
            bail!("database user name {user} is longer than MySQL's 32 characters");
        }
        self.run(&ensure_db_sql(db, user, password))
            .with_context(|| format!("could not create database {db} and user {user}"))
            .map(drop)
    }

    /// Removes a database and its users (a private stack's clean-up).
    pub fn drop_service_db(&self, db: &str, user: &str) -> anyhow::Result<()> {
        self.run(&drop_db_sql(db, user)).map(drop)
    }
}

/// In GRANT, `_` and `%` are wildcards: escaped, a grant covers exactly its database.
pub fn grant_pattern(db: &str) -> String {
    db.replace('_', "\\_").replace('%', "\\%")
}

/// The SQL that creates the database (utf8mb4) and its user at 127.0.0.1 and localhost
/// with [`SERVICE_GRANTS`] on it. EXECUTE is granted on the database, not left to
/// automatic_sp_privileges (which grants it only to the account that ran the migration).
pub fn ensure_db_sql(db: &str, user: &str, password: &str) -> String {
    let mut sql = format!(
        "CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    );
    for host in ["127.0.0.1", "localhost"] {
        sql += &format!(
            "CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}';\
             ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}';\
             GRANT {SERVICE_GRANTS} ON `{}`.* TO '{user}'@'{host}';",
            grant_pattern(db)
        );
    }
    sql
}

/// The SQL that drops the database and both of its users.
pub fn drop_db_sql(db: &str, user: &str) -> String {
    format!(
        "DROP DATABASE IF EXISTS `{db}`; DROP USER IF EXISTS '{user}'@'127.0.0.1'; \
         DROP USER IF EXISTS '{user}'@'localhost';"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_name_exactly_one_database() {
        let sql = ensure_db_sql("e2e_ab_user_db", "e2e_ab_user_svc", "pw");
        assert!(
            sql.starts_with("CREATE DATABASE IF NOT EXISTS `e2e_ab_user_db` CHARACTER SET utf8mb4")
        );
        assert!(sql.contains("ON `e2e\\_ab\\_user\\_db`.* TO 'e2e_ab_user_svc'@'127.0.0.1';"));
        assert!(sql.contains("TO 'e2e_ab_user_svc'@'localhost';"));
        assert!(sql.contains("CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON"));
        assert!(!sql.contains("DROP"));
        assert_eq!(grant_pattern("a%b_c"), "a\\%b\\_c");
    }

    #[test]
    fn the_password_never_reaches_argv() {
        let admin = MysqlAdmin {
            host: "127.0.0.1".into(),
            port: "3306".into(),
            user: "mall_admin".into(),
            password: Some("secret".into()),
            admin_file: PathBuf::from("/x"),
        };
        let cmd = admin.cmd("SELECT 1");
        assert!(!cmd.iter().any(|w| w.contains("secret")));
        assert_eq!(cmd[..3], ["mysql", "--protocol=TCP", "-h"]);
        assert!(drop_db_sql("d", "u").contains("DROP USER IF EXISTS 'u'@'localhost'"));
    }
}
