//! The database going away under a running service, for real: the service reaches MariaDB
//! through a TCP relay of this test's own, which is cut (the listening port closed, every
//! open connection dropped, as a server crash looks from the service) and later restored
//! on the same port. Meanwhile every database-backed request answers `503
//! service_unavailable` with the standard body and `Retry-After`, within a few seconds;
//! afterwards the service answers again by itself, nothing restarted.

use std::time::{Duration, Instant};

use mall_http::config::ServiceBase;
use mall_testkit::{self as testing, TestDb};
use product_service::config::Config;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The longest a request may wait while the database is away.
const QUICKLY: Duration = Duration::from_secs(5);

/// A TCP relay from a loopback port to `upstream` that can be cut and restored.
struct Relay {
    port: u16,
    upstream: String,
    task: Option<JoinHandle<()>>,
}

impl Relay {
    async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut relay = Self {
            port,
            upstream: upstream.to_owned(),
            task: None,
        };
        relay.serve(listener);
        relay
    }

    fn serve(&mut self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        // The connections live in the accept task's JoinSet: aborting that task drops the
        // listener and every connection at once.
        self.task = Some(tokio::spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// The port closes and every relayed connection is dropped.
    async fn cut(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens on the same port again.
    async fn restore(&mut self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.serve(listener);
    }
}

/// `mysql://user:pw@host:port/db` split at the host: (`host:port`, the URL with `port`).
fn through(url: &str, port: u16) -> (String, String) {
    let (head, tail) = url.rsplit_once('@').unwrap();
    let (hostport, db) = tail.split_once('/').unwrap();
    (hostport.to_owned(), format!("{head}@127.0.0.1:{port}/{db}"))
}

async fn timed(request: reqwest::RequestBuilder) -> (u16, Option<String>, Value, Duration) {
    let start = Instant::now();
    let r = request.send().await.unwrap();
    let took = start.elapsed();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = r.json().await.unwrap_or(Value::Null);
    (status, retry, body, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_away_answers_503_quickly_and_the_service_recovers_by_itself() {
    let db = TestDb::create("product").await.unwrap();
    let (hostport, _) = through(db.url.expose_secret(), 0);
    let mut relay = Relay::start(&hostport).await;
    let (_, relayed) = through(db.url.expose_secret(), relay.port);
    let prefix = format!("test:{}:", testing::suffix());
    let config = Config {
        base: ServiceBase::for_tests(
            "product",
            SecretString::from(relayed),
            &testing::redis_url(),
            &prefix,
        ),
        cache_ttl_secs: 60,
        // Every read goes to MySQL.
        cache_enabled: false,
        seed_demo: false,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(product_service::run(config, listener, async {
        stopped.await.ok();
    }));
    testing::wait_ready(&base).await;
    let http = reqwest::Client::new();
    let create = || {
        http.post(format!("{base}/api/products"))
            .header("x-user-id", "1")
            .header("x-user-roles", "customer,admin")
            .json(&json!({"name": "Lamp", "description": "bright", "price": 900, "stock": 3, "category": "home"}))
    };
    let (status, _, created, _) = timed(create()).await;
    assert_eq!(status, 201, "{created}");
    let detail = format!("{base}/api/products/{}", created["id"]);

    relay.cut().await;
    for request in [
        http.get(&detail),
        http.get(format!("{base}/api/products")),
        create(),
    ] {
        let (status, retry, body, took) = timed(request).await;
        assert!(
            took <= QUICKLY,
            "a request took {took:?} with the database away"
        );
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"]["code"], "service_unavailable", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && !message.contains("127.0.0.1"),
            "{body}"
        );
        assert!(
            retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)),
            "503 without Retry-After"
        );
    }
    let ready = http.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503, "not ready while the database is away");

    relay.restore().await;
    let mut back = None;
    for _ in 0..100 {
        let (status, _, body, _) = timed(http.get(&detail)).await;
        if status == 200 {
            back = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = back.expect("the service answers again within 10 s of the database");
    assert_eq!(back["name"], "Lamp");
    let (status, _, _, _) = timed(create()).await;
    assert_eq!(status, 201, "writes work again too");
    let _ = stop.send(());
}
