//! Test support shared by every service's integration tests: a MariaDB database of the
//! test's own (created with a random name, dropped when the guard goes), a Redis prefix of
//! its own, and waiting for `/ready`. Used only from tests; it lives here so no test
//! harness is copied between services.
// Test support: a setup step that cannot be done fails the test, with the reason.
#![allow(clippy::expect_used)]

pub mod locks;
pub mod logs;

pub use locks::until_a_statement_runs;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use secrecy::SecretString;

/// An account that may create and drop databases: `MALL_TEST_MYSQL_URL` when set (as
/// scripts/test exports it), else built from the settings scripts/dev and scripts/test
/// read, `MALL_MYSQL_HOST` (`127.0.0.1`), `MALL_MYSQL_PORT` (`3306`),
/// `MALL_MYSQL_ROOT_USER` (`root`) and `MALL_MYSQL_ROOT_PASSWORD` (none), so a server
/// configured for them is the one the tests use too.
pub fn mysql_admin_url() -> String {
    mysql_admin_url_from(|name| std::env::var(name).ok())
}

fn mysql_admin_url_from(var: impl Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if let Some(url) = set("MALL_TEST_MYSQL_URL") {
        return url;
    }
    let host = set("MALL_MYSQL_HOST").unwrap_or_else(|| "127.0.0.1".into());
    let port = set("MALL_MYSQL_PORT").unwrap_or_else(|| "3306".into());
    let user = set("MALL_MYSQL_ROOT_USER").unwrap_or_else(|| "root".into());
    let login = match set("MALL_MYSQL_ROOT_PASSWORD") {
        Some(password) => format!("{}:{}", url_escape(&user), url_escape(&password)),
        None => url_escape(&user),
    };
    format!("mysql://{login}@{host}:{port}")
}

/// Percent-encodes all but the URL's unreserved characters (for a user or password).
fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `MALL_TEST_REDIS_URL` when set, else `MALL_REDIS_URL` (scripts/dev's setting), else
/// `redis://127.0.0.1:6379/0`.
pub fn redis_url() -> String {
    ["MALL_TEST_REDIS_URL", "MALL_REDIS_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".into())
}

/// A random lowercase suffix for names.
pub fn suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A database that exists for as long as this guard.
pub struct TestDb {
    pub name: String,
    pub url: SecretString,
}

impl TestDb {
    pub async fn create(service: &str) -> anyhow::Result<Self> {
        let name = format!("test_{service}_{}", suffix());
        let pool = mysql_async::Pool::new(mysql_admin_url().as_str());
        let mut conn = pool.get_conn().await?;
        conn.query_drop(format!("CREATE DATABASE `{name}`")).await?;
        drop(conn);
        pool.disconnect().await?;
        let url = SecretString::from(format!("{}/{name}", mysql_admin_url()));
        Ok(Self { name, url })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Async cleanup from Drop: a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let pool = mysql_async::Pool::new(mysql_admin_url().as_str());
                if let Ok(mut c) = pool.get_conn().await {
                    let _ = c
                        .query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))
                        .await;
                }
                pool.disconnect().await.ok();
            });
        })
        .join();
    }
}

/// Polls `base/ready` until it answers 200 (or panics after ~10 s).
pub async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/ready")).send().await {
            if r.status() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} never became ready");
}

/// A private `redis-server` on a free loopback port, for tests that stop and restart Redis
/// under a running service. Killed when dropped. Its data lives in a directory of its own,
/// so it can be stopped with its data saved ([`stop_keeping_data`](Self::stop_keeping_data))
/// and started again with every key it held: a Redis that comes back with stale entries.
pub struct RedisServer {
    child: std::process::Child,
    pub port: u16,
    dir: RedisDir,
}

/// A stopped [`RedisServer`] whose data set is saved on disk.
pub struct StoppedRedis {
    pub port: u16,
    dir: RedisDir,
}

/// A `redis-server` data directory, removed when dropped.
struct RedisDir(std::path::PathBuf);

impl RedisDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("mall-test-redis-{}", suffix()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        Self(dir)
    }
}

impl Drop for RedisDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl RedisServer {
    /// A new, empty server on a free port.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        Self::start_on(port)
    }

    /// A new, empty server on `port` (to restart one that was stopped, without its data).
    pub fn start_on(port: u16) -> Self {
        Self::spawn(port, RedisDir::new())
    }

    fn spawn(port: u16, dir: RedisDir) -> Self {
        let mut child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                &dir.0.to_string_lossy(),
                "--dbfilename",
                "dump.rdb",
                // No background saves: only stop_keeping_data writes the data set.
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): these tests start Redis servers of their \
                     own; install it (apt-get install redis-server; scripts/test does)"
                )
            });
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, port, dir };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stops the server with `SHUTDOWN SAVE`: every key it holds is written to disk first,
    /// and [`StoppedRedis::restart`] brings them back. Waits until the process has exited,
    /// so the port is free and nothing answers on it.
    pub fn stop_keeping_data(mut self) -> StoppedRedis {
        use std::io::{Read, Write};
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", self.port))
            .expect("connecting to the test redis-server");
        conn.write_all(b"SHUTDOWN SAVE\r\n")
            .expect("sending SHUTDOWN SAVE");
        // The server closes the connection when it exits (it answers only on failure).
        let mut answer = String::new();
        let _ = conn.read_to_string(&mut answer);
        assert!(
            answer.is_empty(),
            "SHUTDOWN SAVE failed on port {}: {answer}",
            self.port
        );
        let status = self.child.wait().expect("waiting for redis-server");
        assert!(status.success(), "redis-server exited with {status}");
        assert!(
            self.dir.0.join("dump.rdb").is_file(),
            "redis-server saved no data set in {}",
            self.dir.0.display()
        );
        let dir = RedisDir(std::mem::take(&mut self.dir.0));
        StoppedRedis {
            port: self.port,
            dir,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl StoppedRedis {
    /// Starts the server again on its port, with every key it held when it stopped.
    pub fn restart(self) -> RedisServer {
        RedisServer::spawn(self.port, self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_url_comes_from_the_test_url_or_the_mysql_settings() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            mysql_admin_url_from(env(&[])),
            "mysql://root@127.0.0.1:3306"
        );
        assert_eq!(
            mysql_admin_url_from(env(&[
                ("MALL_TEST_MYSQL_URL", "mysql://a:b@db:1"),
                ("MALL_MYSQL_HOST", "ignored"),
            ])),
            "mysql://a:b@db:1"
        );
        assert_eq!(
            mysql_admin_url_from(env(&[
                ("MALL_TEST_MYSQL_URL", ""),
                ("MALL_MYSQL_HOST", "10.0.0.5"),
                ("MALL_MYSQL_PORT", "3307"),
                ("MALL_MYSQL_ROOT_USER", "mall_admin"),
                ("MALL_MYSQL_ROOT_PASSWORD", "p@ss:w/rd"),
            ])),
            "mysql://mall_admin:p%40ss%3Aw%2Frd@10.0.0.5:3307"
        );
    }
}
