use mall_http::config::ServiceBase;
use mall_testkit::{self as testing, TestDb};
use mysql_async::prelude::Queryable;
use product_service::config::Config;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    /// The Redis the service uses, and the prefix of its keys.
    pub redis_url: String,
    pub redis_prefix: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    database_url: SecretString,
    /// The database, dropped with the app that created it (not with a twin).
    _db: Option<TestDb>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with_redis(&testing::redis_url()).await
}

pub async fn spawn_with_redis(redis_url: &str) -> TestApp {
    let db = TestDb::create("product")
        .await
        .expect("MariaDB must run (MALL_TEST_MYSQL_URL)");
    let redis_prefix = format!("test:{}:", testing::suffix());
    start(db.url.clone(), redis_url, redis_prefix, Some(db)).await
}

async fn start(
    database_url: SecretString,
    redis_url: &str,
    redis_prefix: String,
    db: Option<TestDb>,
) -> TestApp {
    let config = Config {
        base: ServiceBase::for_tests("product", database_url.clone(), redis_url, &redis_prefix),
        cache_ttl_secs: 60,
        cache_enabled: true,
        seed_demo: false,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        product_service::run(config, listener, async {
            rx.await.ok();
        })
        .await
        .expect("product service");
    });
    let app = TestApp {
        base,
        http: reqwest::Client::new(),
        redis_url: redis_url.to_owned(),
        redis_prefix,
        stop: Some(tx),
        database_url,
        _db: db,
    };
    // Readiness may be "degraded" (200) when Redis is away; both count as up.
    testing::wait_ready(&app.base).await;
    app
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// A second product process on the same database and Redis (the other slot of a
    /// blue/green pair).
    pub async fn twin(&self) -> TestApp {
        start(
            self.database_url.clone(),
            &self.redis_url,
            self.redis_prefix.clone(),
            None,
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The test database's URL, for checks that must read MySQL itself (every HTTP read,
    /// the internal lookup included, may be served from the cache).
    pub fn db_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .header("x-user-id", "1")
            .header("x-user-roles", "customer,admin")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// Creates a product and returns it.
    /// `DELETE /api/products/{id}` as the admin; the status it answered.
    pub async fn delete_product(&self, id: u64) -> reqwest::StatusCode {
        self.admin(reqwest::Method::DELETE, &format!("/api/products/{id}"))
            .send()
            .await
            .unwrap()
            .status()
    }

    pub async fn create(&self, name: &str, price: i64, stock: i64, category: &str) -> Value {
        let r = self
            .admin(reqwest::Method::POST, "/api/products")
            .json(&json!({"name": name, "description": format!("about {name}"), "price": price, "stock": stock, "category": category}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json().await.unwrap()
    }

    /// [`create`](Self::create)s a product (price 100, category X) and answers its id.
    pub async fn create_id(&self, name: &str, stock: i64) -> u64 {
        self.create(name, 100, stock, "X").await["id"]
            .as_u64()
            .expect("a created product has an id")
    }

    pub async fn reserve(&self, order_id: u64, items: Value) -> reqwest::Response {
        self.http
            .post(self.url("/internal/reservations"))
            .json(&json!({"order_id": order_id, "items": items}))
            .send()
            .await
            .unwrap()
    }

    /// The stock in MySQL itself (every HTTP read, the internal lookup included, may be
    /// served from the cache).
    pub async fn stock_in_mysql(&self, id: u64) -> i64 {
        let pool = mysql_async::Pool::new(self.db_url());
        let mut conn = pool.get_conn().await.unwrap();
        let stock: Option<i64> = conn
            .exec_first("SELECT stock FROM products WHERE id = ?", (id,))
            .await
            .unwrap();
        drop(conn);
        pool.disconnect().await.unwrap();
        stock.expect("the product is in MySQL")
    }

    /// Rows of `sql` read from MySQL itself, on a connection of the test's own.
    pub async fn rows_in_mysql<T>(
        &self,
        sql: &str,
        params: impl Into<mysql_async::Params> + Send,
    ) -> Vec<T>
    where
        T: mysql_async::prelude::FromRow + Send + 'static,
    {
        let pool = mysql_async::Pool::new(self.db_url());
        let mut conn = pool.get_conn().await.unwrap();
        let rows = conn.exec(sql, params).await.unwrap();
        drop(conn);
        pool.disconnect().await.unwrap();
        rows
    }

    pub async fn stock_of(&self, id: u64) -> i64 {
        self.get_json(&format!("/api/products/{id}")).await["stock"]
            .as_i64()
            .unwrap()
    }
}
