//! Test support shared by every service's integration tests: a MariaDB database of the
//! test's own (created with a random name, dropped when the guard goes), a Redis prefix of
//! its own, and waiting for `/ready`. Used only from tests; it lives here so no test
//! harness is copied between services.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use secrecy::SecretString;

/// `MALL_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306`): an account that may
/// create and drop databases.
pub fn mysql_admin_url() -> String {
    std::env::var("MALL_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// `MALL_TEST_REDIS_URL` (default `redis://127.0.0.1:6379/0`).
pub fn redis_url() -> String {
    std::env::var("MALL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
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
/// under a running service. Killed when dropped.
pub struct RedisServer {
    child: std::process::Child,
    pub port: u16,
}

impl RedisServer {
    /// A new server on a free port.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        Self::start_on(port)
    }

    /// A server on `port` (to restart one that was stopped).
    pub fn start_on(port: u16) -> Self {
        let mut child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, port };
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
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
