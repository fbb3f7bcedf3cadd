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
