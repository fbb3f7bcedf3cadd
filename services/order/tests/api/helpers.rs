use std::time::Duration;

use mall_contracts::Target;
use mall_http::config::{ServiceBase, ServiceInfo};
use mall_testkit::{self as testing, TestDb};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// A service running in-process; stopped when dropped.
pub struct Running {
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

/// Everything but the order service, plus the order service's database.
pub struct World {
    pub product: Running,
    pub payment: Running,
    _gateway: Running,
    _cart: Running,
    cart_url: String,
    product_db_url: secrecy::SecretString,
    order_db: TestDb,
    _dbs: Vec<TestDb>,
    pub http: reqwest::Client,
}

pub async fn world() -> World {
    let prefix = format!("test:{}:", testing::suffix());
    let redis = testing::redis_url();

    let (l, gateway_url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    let gw = gateway_sim::config::Config {
        info: ServiceInfo {
            name: "gateway-sim".into(),
            color: "blue".into(),
            version: "test".into(),
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        grace: Duration::from_secs(1),
        timeout_delay: Duration::from_secs(60),
    };
    tokio::spawn(async move {
        gateway_sim::run(gw, l, async {
            rx.await.ok();
        })
        .await
        .unwrap()
    });
    let gateway = Running {
        url: gateway_url.clone(),
        stop: Some(tx),
    };

    let product_db = TestDb::create("product").await.unwrap();
    let (l, url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    let cfg = product_service::config::Config {
        base: ServiceBase::for_tests("product", product_db.url.clone(), &redis, &prefix),
        cache_ttl_secs: 60,
        cache_enabled: true,
        seed_demo: false,
    };
    tokio::spawn(async move {
        product_service::run(cfg, l, async {
            rx.await.ok();
        })
        .await
        .unwrap()
    });
    let product = Running {
        url,
        stop: Some(tx),
    };

    let cart_db = TestDb::create("cart").await.unwrap();
    let (l, cart_url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    let cfg = cart_service::config::Config {
        base: ServiceBase::for_tests("cart", cart_db.url.clone(), &redis, &prefix),
        product: Target::One(product.url.clone()),
        cache_ttl_secs: 60,
        max_lines: 50,
    };
    tokio::spawn(async move {
        cart_service::run(cfg, l, async {
            rx.await.ok();
        })
        .await
        .unwrap()
    });
    let cart = Running {
        url: cart_url.clone(),
        stop: Some(tx),
    };

    let payment_db = TestDb::create("payment").await.unwrap();
    let (l, url) = listener().await;
    let (tx, rx) = oneshot::channel::<()>();
    let cfg = payment_service::config::Config {
        base: ServiceBase::for_tests("payment", payment_db.url.clone(), &redis, &prefix),
        gateway_url,
        gateway_timeout: Duration::from_millis(300),
        settle_unknown_after: Duration::from_secs(1),
    };
    tokio::spawn(async move {
        payment_service::run(cfg, l, async {
            rx.await.ok();
        })
        .await
        .unwrap()
    });
    let payment = Running {
        url,
        stop: Some(tx),
    };

    for url in [&gateway.url, &product.url, &cart.url, &payment.url] {
        testing::wait_ready(url).await;
    }
    World {
        product,
        payment,
        _gateway: gateway,
        _cart: cart,
        cart_url,
        product_db_url: product_db.url.clone(),
        order_db: TestDb::create("order").await.unwrap(),
        _dbs: vec![product_db, cart_db, payment_db],
        http: reqwest::Client::new(),
    }
}

impl World {
    /// Starts an order service on the world's order database; `payment_url` may point
    /// nowhere to simulate a payment service that cannot be reached.
    pub async fn order_service(&self, payment_url: &str, reconcile_after: Duration) -> Running {
        self.order_service_calling(&self.product.url, payment_url, reconcile_after)
            .await
    }

    /// [`order_service`](Self::order_service) with the product service at `product_url`.
    pub async fn order_service_calling(
        &self,
        product_url: &str,
        payment_url: &str,
        reconcile_after: Duration,
    ) -> Running {
        let (l, url) = listener().await;
        let (tx, rx) = oneshot::channel::<()>();
        let cfg = order_service::config::Config {
            base: ServiceBase::for_tests(
                "order",
                self.order_db.url.clone(),
                &testing::redis_url(),
                "unused:",
            ),
            product: Target::One(product_url.to_owned()),
            cart: Target::One(self.cart_url.clone()),
            payment: Target::One(payment_url.to_owned()),
            user: Target::One(self.product.url.clone()),
            call_timeout: Duration::from_millis(500),
            reconcile_every: Duration::from_millis(300),
            reconcile_after,
        };
        tokio::spawn(async move {
            order_service::run(cfg, l, async {
                rx.await.ok();
            })
            .await
            .unwrap()
        });
        testing::wait_ready(&url).await;
        Running {
            url,
            stop: Some(tx),
        }
    }

    /// Changes a product's price in the catalog's database only, as if an admin's change
    /// had not reached the catalog's cache yet: the batch lookup still answers the old
    /// price (once it has cached it), a reservation reads the new one.
    pub async fn set_price_behind_the_cache(&self, product: u64, price: i64) {
        use mysql_async::prelude::Queryable;
        use secrecy::ExposeSecret;
        let pool = mysql_async::Pool::new(self.product_db_url.expose_secret());
        let mut conn = pool.get_conn().await.unwrap();
        conn.exec_drop(
            "UPDATE products SET price = ? WHERE id = ?",
            (price, product),
        )
        .await
        .unwrap();
        drop(conn);
        pool.disconnect().await.unwrap();
    }

    /// A product slot as a build from before the batch routes (`POST
    /// /internal/reservations/commits` and `…/batch`) and the price lookup (`GET
    /// /internal/products/prices`) answers: those routes are unknown (404 with the standard
    /// body); every other call is the world's product service's own answer (forwarded as it
    /// is).
    pub async fn product_from_before_batches(&self) -> Running {
        use warp::Filter;
        let (l, url) = listener().await;
        let real = self.product.url.clone();
        let http = reqwest::Client::new();
        let newer = warp::path!("internal" / "reservations" / "commits")
            .or(warp::path!("internal" / "reservations" / "batch"))
            .unify()
            .or(warp::path!("internal" / "products" / "prices"))
            .unify();
        let unknown = newer.map(|| {
            let body = json!({"error": {"code": "not_found", "message": "no such route"}});
            warp::reply::with_status(warp::reply::json(&body), warp::http::StatusCode::NOT_FOUND)
        });
        let forward = warp::method()
            .and(warp::path::full())
            .and(warp::query::raw().or(warp::any().map(String::new)).unify())
            .and(warp::header::headers_cloned())
            .and(warp::body::bytes())
            .and_then(
                move |method, path: warp::path::FullPath, query: String, headers, body| {
                    let (http, real) = (http.clone(), real.clone());
                    async move {
                        let q = if query.is_empty() {
                            String::new()
                        } else {
                            format!("?{query}")
                        };
                        let answer = http
                            .request(method, format!("{real}{}{q}", path.as_str()))
                            .headers(headers)
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        let status = answer.status();
                        let bytes = answer.bytes().await.unwrap();
                        let reply = warp::http::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(bytes.to_vec())
                            .unwrap();
                        Ok::<_, std::convert::Infallible>(reply)
                    }
                },
            );
        let routes = unknown
            .map(warp::Reply::into_response)
            .or(forward.map(warp::Reply::into_response));
        let (tx, rx) = oneshot::channel::<()>();
        let server = warp::serve(routes).incoming(l).graceful(async {
            rx.await.ok();
        });
        tokio::spawn(server.run());
        Running {
            url,
            stop: Some(tx),
        }
    }

    /// A reservation's status at the product service (`None`: no reservation).
    pub async fn reservation_status(&self, order_id: u64) -> Option<String> {
        let url = format!("{}/internal/reservations/{order_id}", self.product.url);
        let r = self.http.get(url).send().await.unwrap();
        if r.status() == 404 {
            return None;
        }
        let v: Value = r.json().await.unwrap();
        Some(v["status"].as_str().unwrap().to_owned())
    }

    /// The catalog's batch lookup of `product` (what the order service asks first).
    pub async fn looked_up_price(&self, product: u64) -> i64 {
        let url = format!("{}/internal/products?ids={product}", self.product.url);
        self.get_json(&url).await[0]["price"].as_i64().unwrap()
    }

    /// The JSON answer of a GET to `url`.
    pub async fn get_json(&self, url: &str) -> Value {
        let r = self.http.get(url).send().await.unwrap();
        r.json().await.unwrap()
    }

    pub async fn create_product(&self, stock: i64, price: i64) -> u64 {
        self.create_product_in(stock, price, "KRW").await
    }

    pub async fn create_product_in(&self, stock: i64, price: i64, currency: &str) -> u64 {
        let r = self
            .http
            .post(format!("{}/api/products", self.product.url))
            .header("x-user-id", "1")
            .header("x-user-roles", "customer,admin")
            .json(&json!({"name": "Thing", "description": "", "price": price, "stock": stock, "category": "T", "currency": currency}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
    }

    pub async fn stock(&self, id: u64) -> i64 {
        let r = self
            .http
            .get(format!("{}/api/products/{id}", self.product.url))
            .send()
            .await
            .unwrap();
        r.json::<Value>().await.unwrap()["stock"].as_i64().unwrap()
    }

    pub async fn order(
        &self,
        order: &Running,
        user: u64,
        key: &str,
        product: u64,
        qty: u32,
        card: &str,
    ) -> reqwest::Response {
        let body = json!({"items": [{"product_id": product, "quantity": qty}], "payment": {"card_token": card}});
        self.post_order(order, user, key, &body).await
    }

    pub async fn order_status(&self, order: &Running, user: u64, id: u64) -> String {
        let (_, order) = self.get_order(order, user, id).await;
        order["status"].as_str().unwrap().to_owned()
    }

    /// `POST /api/orders` with any body (`{"payment": …}` alone orders the cart).
    pub async fn post_order(
        &self,
        order: &Running,
        user: u64,
        key: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/api/orders", order.url))
            .header("x-user-id", user.to_string())
            .header("x-user-roles", "customer")
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/orders/{id}` as its owner: status and body.
    pub async fn get_order(&self, order: &Running, user: u64, id: u64) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/api/orders/{id}", order.url))
            .header("x-user-id", user.to_string())
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// `GET /api/orders` as `user`: the orders of the first page.
    pub async fn my_orders(&self, order: &Running, user: u64) -> Vec<Value> {
        let r = self
            .http
            .get(format!("{}/api/orders", order.url))
            .header("x-user-id", user.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        page["items"].as_array().unwrap().clone()
    }

    /// Puts `qty` of `product` into `user`'s cart (the cart service's public route).
    pub async fn put_cart_item(&self, user: u64, product: u64, qty: u32) {
        let r = self
            .http
            .put(format!("{}/api/cart/items/{product}", self.cart_url))
            .header("x-user-id", user.to_string())
            .header("x-user-roles", "customer")
            .json(&json!({ "quantity": qty }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// The lines of `user`'s cart as the order service reads them.
    pub async fn cart_items(&self, user: u64) -> Vec<Value> {
        let r = self
            .http
            .get(format!("{}/internal/carts/{user}", self.cart_url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Deletes a product from the catalog (soft delete, as an admin).
    pub async fn delete_product(&self, id: u64) {
        let r = self
            .http
            .delete(format!("{}/api/products/{id}", self.product.url))
            .header("x-user-id", "1")
            .header("x-user-roles", "customer,admin")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }

    /// Polls until the order leaves `pending` (or `within` passes); returns its status.
    pub async fn settled(&self, order: &Running, user: u64, id: u64, within: Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let s = self.order_status(order, user, id).await;
            if s != "pending" || tokio::time::Instant::now() > deadline {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
