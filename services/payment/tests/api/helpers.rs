use std::time::Duration;

use chrono::NaiveDateTime;
use mysql_async::prelude::Queryable;
use secrecy::ExposeSecret;

use mall_http::config::ServiceBase;
use mall_runtime::telemetry::capture::Captured;
use mall_testkit::{self as testing, TestDb};
use payment_service::config::Config;
use serde_json::{json, Value};

/// The settings a test may change; the defaults are short so tests are quick.
pub struct Opts {
    /// The payment service's patience with the gateway.
    pub gateway_timeout: Duration,
    /// When a pending payment the gateway never saw is declined.
    pub settle_after: Duration,
    /// How long the simulator holds a `tok_timeout` answer.
    pub sim_delay: Duration,
    /// Point the payment service somewhere else than the simulator.
    pub gateway_url: Option<String>,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            gateway_timeout: Duration::from_millis(500),
            settle_after: Duration::from_secs(1),
            sim_delay: Duration::from_secs(2),
            gateway_url: None,
        }
    }
}

/// Stops a spawned server when dropped.
struct Stop(Option<tokio::sync::oneshot::Sender<()>>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub sim: String,
    pub http: reqwest::Client,
    pub opts: Opts,
    _payment: Stop,
    _sim: Stop,
    db: TestDb,
}

/// Every line any test of this binary logs (both services run in this process).
pub fn logs() -> &'static Captured {
    testing::logs::captured(
        "test",
        "debug,payment_service=trace,gateway_sim=trace,mall_http=trace,mall_runtime=trace,mall_store=trace",
    )
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Opts::default()).await
}

pub async fn spawn_with(opts: Opts) -> TestApp {
    logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!("http://{}", listener.local_addr().unwrap());
    let (sim_tx, sim_rx) = tokio::sync::oneshot::channel::<()>();
    let sim_cfg = gateway_sim::config::Config::for_tests(opts.sim_delay);
    tokio::spawn(async move {
        gateway_sim::run(sim_cfg, listener, async {
            sim_rx.await.ok();
        })
        .await
        .unwrap()
    });

    let db = TestDb::create("payment").await.expect("MariaDB must run");
    let prefix = format!("test:{}:", testing::suffix());
    let config = Config {
        base: ServiceBase::for_tests("payment", db.url.clone(), &testing::redis_url(), &prefix),
        gateway_url: opts.gateway_url.clone().unwrap_or_else(|| sim.clone()),
        gateway_timeout: opts.gateway_timeout,
        settle_unknown_after: opts.settle_after,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        payment_service::run(config, listener, async {
            rx.await.ok();
        })
        .await
        .unwrap()
    });
    testing::wait_ready(&sim).await;
    testing::wait_ready(&url).await;
    TestApp {
        url,
        sim,
        http: reqwest::Client::new(),
        opts,
        _payment: Stop(Some(tx)),
        _sim: Stop(Some(sim_tx)),
        db,
    }
}

/// A loopback URL where nothing listens.
pub fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

pub const USER: u64 = 7;

pub fn charge_body(order_id: u64, amount: i64, token: &str) -> Value {
    json!({
        "order_id": order_id,
        "user_id": USER,
        "amount": amount,
        "currency": "KRW",
        "card_token": token,
    })
}

impl TestApp {
    /// `POST /internal/payments`: status and body.
    pub async fn charge(&self, order_id: u64, amount: i64, token: &str) -> (u16, Value) {
        self.post("/internal/payments", &charge_body(order_id, amount, token))
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn by_order(&self, order_id: u64) -> (u16, Value) {
        self.get(&format!("/internal/payments/by-order/{order_id}"))
            .await
    }

    pub async fn refund(&self, payment_id: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!(
                "{}/internal/payments/{payment_id}/refund",
                self.url
            ))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// `GET /api/payments/{id}` as `user_id`.
    pub async fn public_get(&self, payment_id: &Value, user_id: u64) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}/api/payments/{payment_id}", self.url))
            .header("x-user-id", user_id.to_string())
            .header("x-user-roles", "customer")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    /// The simulator's counts.
    pub async fn gateway_stats(&self) -> Value {
        let r = self
            .http
            .get(format!("{}/v1/stats", self.sim))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }

    /// The simulator's charges for an order (by the reference the service sends).
    pub async fn gateway_charges(&self, order_id: u64) -> Vec<Value> {
        let r = self
            .http
            .get(format!("{}/v1/charges?reference={order_id}", self.sim))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// When the payment of `order_id` was last touched (created, or claimed by a charge
    /// attempt), from the database: what "never charged" counts from.
    pub async fn last_attempt(&self, order_id: u64) -> NaiveDateTime {
        let mut conn = self.conn().await;
        let at: Option<NaiveDateTime> = conn
            .exec_first(
                "SELECT updated_at FROM payments WHERE order_id = ?",
                (order_id,),
            )
            .await
            .unwrap();
        conn.disconnect().await.unwrap();
        at.unwrap_or_else(|| panic!("no payment for order {order_id}"))
    }

    /// Moves the last attempt on the payment of `order_id` back by `by`: the state the
    /// payment would be in had that much time passed since (a clock the test controls).
    pub async fn age_last_attempt(&self, order_id: u64, by: Duration) {
        let at = self.last_attempt(order_id).await - chrono::Duration::from_std(by).unwrap();
        let mut conn = self.conn().await;
        conn.exec_drop(
            "UPDATE payments SET updated_at = ? WHERE order_id = ?",
            (at, order_id),
        )
        .await
        .unwrap();
        assert_eq!(conn.affected_rows(), 1);
        conn.disconnect().await.unwrap();
    }

    pub async fn conn(&self) -> mysql_async::Conn {
        mysql_async::Conn::from_url(self.db.url.expose_secret())
            .await
            .unwrap()
    }

    /// `POST /v1/control` on the simulator.
    pub async fn gateway_mode(&self, mode: &str, delay_ms: u64) {
        let r = self
            .http
            .post(format!("{}/v1/control", self.sim))
            .json(&json!({"mode": mode, "delay_ms": delay_ms}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// A card gateway the test answers by hand: every request it receives waits until the test
/// answers it, so a test can hold the payment service at any point of a conversation with
/// the gateway and order what happens meanwhile (no timing).
pub struct FakeGateway {
    pub url: String,
    requests: tokio::sync::mpsc::UnboundedReceiver<Held>,
    task: tokio::task::JoinHandle<()>,
}

/// A request to the [`FakeGateway`], held until answered.
pub struct Held {
    pub method: String,
    /// The request target (path and query).
    pub target: String,
    pub body: Value,
    answer: tokio::sync::oneshot::Sender<(u16, Value)>,
}

impl Held {
    pub fn answer(self, status: u16, body: Value) {
        let _ = self.answer.send((status, body));
    }
}

impl FakeGateway {
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, requests) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    let mut line = String::new();
                    stream.read_line(&mut line).await.unwrap();
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or_default().to_owned();
                    let target = parts.next().unwrap_or_default().to_owned();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        stream.read_line(&mut header).await.unwrap();
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.unwrap();
                    let (answer, answered) = tokio::sync::oneshot::channel();
                    let held = Held {
                        method,
                        target,
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        answer,
                    };
                    if tx.send(held).is_err() {
                        return;
                    }
                    let Ok((status, body)) = answered.await else {
                        return;
                    };
                    let body = body.to_string();
                    let head = format!(
                        "HTTP/1.1 {status} Fake\r\nContent-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let mut stream = stream.into_inner();
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Self {
            url,
            requests,
            task,
        }
    }

    /// The next request the payment service sent (waits for it; panics after 30 s, when
    /// the service has evidently stopped talking to the gateway).
    pub async fn next(&mut self, what: &str) -> Held {
        tokio::time::timeout(Duration::from_secs(30), self.requests.recv())
            .await
            .unwrap_or_else(|_| panic!("the payment service never sent {what}"))
            .expect("the fake gateway runs")
    }

    /// Panics if a request is waiting to be answered.
    pub fn assert_idle(&mut self, when: &str) {
        if let Ok(held) = self.requests.try_recv() {
            panic!(
                "{when}, the payment service sent {} {} {}",
                held.method, held.target, held.body
            );
        }
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}
