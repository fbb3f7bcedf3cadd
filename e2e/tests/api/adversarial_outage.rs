//! Adversarial: a dependency that is down answers `503 service_unavailable` with the
//! standard body and `Retry-After`, quickly, and the service recovers by itself when it is
//! back. The dependency taken away is the cart service's database, for this stack only: its
//! database account is locked and its connections are killed (what a database restart or a
//! failover looks like to a service), then unlocked.
//!
//! It takes a part of the shared stack down, so it is ignored in the parallel suite and runs
//! in scripts/test's crash step (`-- --ignored crash` matches its name) against the local
//! runtime, with `MALL_TEST_MYSQL_URL` (an account that may lock accounts) and `MALL_VAR`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{eventually, mall, product_body, required_env, send, unique_tag, Reply};

/// The longest a request may wait for a dependency that is down.
const QUICKLY: Duration = Duration::from_secs(5);

/// `mysql://user:password@host:port` split up.
struct Admin {
    user: String,
    password: String,
    host: String,
    port: String,
}

fn admin_login() -> Admin {
    let url = required_env("MALL_TEST_MYSQL_URL");
    let rest = url.trim_start_matches("mysql://");
    let (userinfo, hostport) = rest
        .rsplit_once('@')
        .expect("user@host in MALL_TEST_MYSQL_URL");
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let hostport = hostport.split('/').next().unwrap_or(hostport);
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    Admin {
        user: user.to_owned(),
        password: password.to_owned(),
        host: host.to_owned(),
        port: port.to_owned(),
    }
}

/// Runs SQL as the admin with the mariadb/mysql client (password through MYSQL_PWD, never
/// on the command line); the output, tab-separated, or the client's error.
fn try_sql(admin: &Admin, statement: &str) -> Result<String, String> {
    let client = if std::process::Command::new("mariadb")
        .arg("--version")
        .output()
        .is_ok()
    {
        "mariadb"
    } else {
        "mysql"
    };
    let out = std::process::Command::new(client)
        .args([
            "-h",
            &admin.host,
            "-P",
            &admin.port,
            "-u",
            &admin.user,
            "-N",
            "-B",
            "-e",
            statement,
        ])
        .env("MYSQL_PWD", &admin.password)
        .output()
        .unwrap_or_else(|e| panic!("{client} (the database client) must run: {e}"));
    if !out.status.success() {
        return Err(format!(
            "{client} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sql(admin: &Admin, statement: &str) -> String {
    try_sql(admin, statement).unwrap_or_else(|e| panic!("{e}"))
}

/// The database user of the running cart service (from its environment).
fn cart_db_user() -> String {
    let run = std::path::PathBuf::from(required_env("MALL_VAR")).join("run");
    for slot in ["blue", "green"] {
        let Ok(pid) = std::fs::read_to_string(run.join(format!("cart-{slot}.pid"))) else {
            continue;
        };
        let Ok(environ) = std::fs::read(format!("/proc/{}/environ", pid.trim())) else {
            continue;
        };
        for var in environ.split(|b| *b == 0) {
            let var = String::from_utf8_lossy(var);
            if let Some(url) = var.strip_prefix("DATABASE_URL=") {
                let rest = url.trim_start_matches("mysql://");
                let user = rest.split(['@', ':']).next().unwrap_or_default();
                return user.to_owned();
            }
        }
    }
    panic!(
        "no running cart service with a DATABASE_URL under {}",
        run.display()
    );
}

/// Locks the account and kills its connections; unlocks when dropped (also on failure).
struct Outage<'a> {
    admin: &'a Admin,
    user: String,
}

impl<'a> Outage<'a> {
    fn start(admin: &'a Admin, user: &str) -> Self {
        let hosts = sql(
            admin,
            &format!("SELECT Host FROM mysql.user WHERE User = '{user}'"),
        );
        for host in hosts.lines().filter(|h| !h.is_empty()) {
            sql(admin, &format!("ALTER USER '{user}'@'{host}' ACCOUNT LOCK"));
        }
        let ids = sql(
            admin,
            &format!("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = '{user}'"),
        );
        for id in ids.lines().filter(|i| !i.is_empty()) {
            // A connection may end by itself meanwhile ("unknown thread"): that is fine.
            let _ = try_sql(admin, &format!("KILL CONNECTION {id}"));
        }
        Self {
            admin,
            user: user.to_owned(),
        }
    }
}

impl Drop for Outage<'_> {
    fn drop(&mut self) {
        // No panic here (this may run while a failed assertion unwinds): report instead.
        let select = format!("SELECT Host FROM mysql.user WHERE User = '{}'", self.user);
        let hosts = try_sql(self.admin, &select).unwrap_or_else(|e| {
            eprintln!("cannot list the hosts of {}: {e}", self.user);
            String::new()
        });
        for host in hosts.lines().filter(|h| !h.is_empty()) {
            let unlock = format!("ALTER USER '{}'@'{host}' ACCOUNT UNLOCK", self.user);
            if let Err(e) = try_sql(self.admin, &unlock) {
                eprintln!("UNLOCK THE ACCOUNT BY HAND ({unlock}): {e}");
            }
        }
    }
}

fn assert_unavailable(reply: &Reply, took: Duration, what: &str) {
    assert!(
        took <= QUICKLY,
        "{what} took {took:?} with the database down (at most {QUICKLY:?})"
    );
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what} with the database down: {}",
        reply.text
    );
    reply.expect_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert!(
        reply
            .header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|s| s >= 1),
        "{what}: 503 without Retry-After: {:?}",
        reply.headers
    );
}

#[tokio::test]
#[ignore = "takes the cart database away: run alone by scripts/test's crash step"]
async fn cart_database_crash_answers_503_quickly_and_recovers_by_itself() {
    let mall = mall();
    let admin_token = mall.admin().await.access;
    let product = mall
        .create_product(
            &admin_token,
            &product_body(&format!("Outage {}", unique_tag()), "outage", 700),
        )
        .await["id"]
        .as_i64()
        .expect("id");
    let (_, shopper) = mall.customer().await;
    mall.put_cart_item(&shopper.access, product, 1)
        .await
        .expect_status(StatusCode::OK);
    let admin = admin_login();
    let user = cart_db_user();

    {
        let _outage = Outage::start(&admin, &user);
        for quantity in 2..=4 {
            let start = Instant::now();
            let reply = mall.put_cart_item(&shopper.access, product, quantity).await;
            assert_unavailable(&reply, start.elapsed(), "setting a cart line");
        }
        let start = Instant::now();
        let reply = send(mall.delete("/api/cart").bearer_auth(&shopper.access)).await;
        assert_unavailable(&reply, start.elapsed(), "emptying the cart");
    }

    // Back: the service recovers by itself, nothing restarted.
    let recovered = eventually(Duration::from_secs(10), || async {
        mall.put_cart_item(&shopper.access, product, 5).await.status == StatusCode::OK
    })
    .await;
    assert!(
        recovered,
        "the cart service did not recover within 10 s of its database"
    );
    let cart = mall.cart(&shopper.access).await;
    assert_eq!(cart.body["items"][0]["quantity"], 5, "{}", cart.text);
}
