use mall_http::config::ServiceBase;
use mall_testkit::{self as testing, TestDb};
use serde_json::{json, Value};

struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _db: TestDb,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct TestApp {
    pub cart: String,
    pub product: String,
    pub http: reqwest::Client,
    pub user_id: u64,
    /// The prefix of the cart service's Redis keys.
    pub redis_prefix: String,
    product_svc: Option<Running>,
    _cart_svc: Running,
}

pub async fn spawn_app() -> TestApp {
    spawn_with_redis(&testing::redis_url()).await
}

pub async fn spawn_with_redis(redis_url: &str) -> TestApp {
    let prefix = format!("test:{}:", testing::suffix());
    let product_db = TestDb::create("product").await.expect("MariaDB must run");
    let product_cfg = product_service::config::Config {
        base: ServiceBase::for_tests(
            "product",
            product_db.url.clone(),
            &testing::redis_url(),
            &prefix,
        ),
        cache_ttl_secs: 60,
        cache_enabled: true,
        seed_demo: false,
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let product = format!("http://{}", l.local_addr().unwrap());
    let (ptx, prx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        product_service::run(product_cfg, l, async {
            prx.await.ok();
        })
        .await
        .unwrap()
    });

    let cart_db = TestDb::create("cart").await.expect("MariaDB must run");
    let cart_cfg = cart_service::config::Config {
        base: ServiceBase::for_tests("cart", cart_db.url.clone(), redis_url, &prefix),
        product: mall_contracts::Target::One(product.clone()),
        cache_ttl_secs: 60,
        max_lines: 3,
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cart = format!("http://{}", l.local_addr().unwrap());
    let (ctx, crx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        cart_service::run(cart_cfg, l, async {
            crx.await.ok();
        })
        .await
        .unwrap()
    });
    testing::wait_ready(&product).await;
    testing::wait_ready(&cart).await;
    TestApp {
        cart,
        product,
        http: reqwest::Client::new(),
        user_id: 1 + u64::from(rand_u16()),
        redis_prefix: prefix,
        product_svc: Some(Running {
            stop: Some(ptx),
            _db: product_db,
        }),
        _cart_svc: Running {
            stop: Some(ctx),
            _db: cart_db,
        },
    }
}

fn rand_u16() -> u16 {
    let b = uuid::Uuid::new_v4().into_bytes();
    u16::from_le_bytes([b[0], b[1]])
}

impl TestApp {
    /// A request to the cart service as the test's shopper.
    pub fn as_shopper(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.cart))
            .header("x-user-id", self.user_id.to_string())
            .header("x-user-roles", "customer")
    }

    pub async fn cart(&self) -> Value {
        let r = self
            .as_shopper(reqwest::Method::GET, "/api/cart")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn put(&self, product_id: u64, quantity: i64) -> reqwest::Response {
        self.as_shopper(
            reqwest::Method::PUT,
            &format!("/api/cart/items/{product_id}"),
        )
        .json(&json!({ "quantity": quantity }))
        .send()
        .await
        .unwrap()
    }

    /// [`put`](Self::put) for a test's setup: panics unless the line was set (200), and
    /// answers the cart.
    pub async fn put_ok(&self, product_id: u64, quantity: i64) -> Value {
        let r = self.put(product_id, quantity).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(
            status, 200,
            "setting {quantity} x product {product_id}: {body}"
        );
        serde_json::from_str(&body).unwrap()
    }

    fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.product))
            .header("x-user-id", "1")
            .header("x-user-roles", "customer,admin")
    }

    pub async fn create_product(&self, name: &str, price: i64) -> u64 {
        let r = self
            .admin(reqwest::Method::POST, "/api/products")
            .json(&json!({"name": name, "description": "", "price": price, "stock": 10, "category": "Test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
    }

    pub async fn set_price(&self, id: u64, name: &str, price: i64) {
        let r = self
            .admin(reqwest::Method::PUT, &format!("/api/products/{id}"))
            .json(&json!({"name": name, "description": "", "price": price, "category": "Test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    pub async fn delete_product(&self, id: u64) {
        let r = self
            .admin(reqwest::Method::DELETE, &format!("/api/products/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    /// Waits until the product service no longer answers (after
    /// [`stop_product_service`](Self::stop_product_service)).
    pub async fn wait_product_down(&self) {
        for _ in 0..100 {
            if self
                .http
                .get(format!("{}/health", self.product))
                .send()
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the product service still answers");
    }

    /// Stops the product service (its database stays until the test ends).
    pub fn stop_product_service(&mut self) {
        if let Some(mut p) = self.product_svc.take() {
            if let Some(stop) = p.stop.take() {
                let _ = stop.send(());
            }
            self.product_svc = Some(p);
        }
    }
}
