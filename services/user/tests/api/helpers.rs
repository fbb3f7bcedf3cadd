use std::path::PathBuf;
use std::time::Duration;

use mall_http::config::ServiceBase;
use mall_testkit::{self as testing, TestDb};
use secrecy::SecretString;
use serde_json::{json, Value};
use user_service::config::Config;
use user_service::domain::Email;

pub const ADMIN_EMAIL: &str = "root@mall.test";
pub const ADMIN_PASSWORD: &str = "admin-password-123";

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub prefix: String,
    pub keys_dir: PathBuf,
    _db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

pub async fn spawn_app() -> TestApp {
    let suffix = testing::suffix();
    let db = TestDb::create("user")
        .await
        .expect("MariaDB must run at 127.0.0.1:3306 (MALL_TEST_MYSQL_URL)");
    let keys_dir = std::env::temp_dir().join(format!("mall-user-keys-{suffix}"));
    let password_file = std::env::temp_dir().join(format!("mall-admin-{suffix}"));
    std::fs::write(&password_file, format!("{ADMIN_PASSWORD}\n")).unwrap();
    let prefix = format!("test:{suffix}:");
    let config = Config {
        base: ServiceBase::for_tests("user", db.url.clone(), &testing::redis_url(), &prefix),
        keys_dir: keys_dir.clone(),
        generate_key: true,
        keys_rescan: Duration::from_millis(200),
        key_activation: Duration::ZERO,
        issuer: "mall".into(),
        audience: "mall-api".into(),
        access_ttl_secs: 900,
        refresh_ttl_secs: 3600,
        login_max_failures: 3,
        login_address_max_failures: 100,
        login_window_secs: 60,
        login_max_delay_secs: 60,
        register_max_per_address: 50,
        register_window_secs: 3600,
        bootstrap_admin: Some((
            Email::parse(ADMIN_EMAIL).unwrap(),
            SecretString::from(ADMIN_PASSWORD.to_owned()),
        )),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        if let Err(e) = user_service::run(config, listener, async {
            rx.await.ok();
        })
        .await
        {
            panic!("user service failed: {e:#}");
        }
    });
    let app = TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        prefix,
        keys_dir,
        _db: db,
        stop: Some(tx),
    };
    testing::wait_ready(&app.base).await;
    app
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.keys_dir);
    }
}

/// The identity headers nginx copies from auth-proxy's answer.
pub struct As {
    pub user_id: u64,
    pub roles: &'static str,
    pub jti: Option<String>,
    pub exp: Option<i64>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub fn request_as(
        &self,
        method: reqwest::Method,
        path: &str,
        who: &As,
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, self.url(path))
            .header("x-user-id", who.user_id.to_string())
            .header("x-user-roles", who.roles);
        if let Some(jti) = &who.jti {
            r = r.header("x-token-id", jti);
        }
        if let Some(exp) = who.exp {
            r = r.header("x-token-expires", exp.to_string());
        }
        r
    }

    pub async fn register(&self, email: &str) -> Value {
        let r = self
            .post(
                "/api/users/register",
                json!({"email": email, "password": "correct horse battery", "name": "Ann"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post(
            "/api/users/login",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// A fresh account, registered and signed in: the login's answer (the token pair).
    pub async fn signed_in_pair(&self) -> Value {
        let email = unique_email();
        self.register(&email).await;
        let r = self.login(&email, "correct horse battery").await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// The test's own database, for tests that hold its rows themselves.
    pub fn db_url(&self) -> String {
        use secrecy::ExposeSecret as _;
        self._db.url.expose_secret().to_owned()
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(testing::redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

pub fn unique_email() -> String {
    format!("u{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The claims of an access token, without verifying (the tokens module verifies).
pub fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
