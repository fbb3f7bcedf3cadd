use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mall_testkit::RedisServer;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, spawn_with_redis, TestApp};

#[tokio::test]
async fn a_price_change_is_visible_at_once_in_detail_and_lists() {
    let app = spawn_app().await;
    let p = app.create("Kettle", 30000, 5, "Kitchen").await;
    let id = p["id"].as_u64().unwrap();
    // Warm the cache.
    for _ in 0..2 {
        app.get_json(&format!("/api/products/{id}")).await;
        app.get_json("/api/products?category=Kitchen").await;
    }
    let r = app
        .admin(reqwest::Method::PUT, &format!("/api/products/{id}"))
        .json(&json!({"name": "Kettle", "description": "", "price": 25000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.get_json(&format!("/api/products/{id}")).await["price"],
        25000
    );
    assert_eq!(
        app.get_json("/api/products?category=Kitchen").await["items"][0]["price"],
        25000
    );
    assert_eq!(
        app.get_json(&format!("/api/products/{id}")).await["stock"],
        5,
        "PUT without stock keeps it"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(hits(&metrics) >= 2.0, "{metrics}");
}

fn hits(metrics: &str) -> f64 {
    counter(metrics, "catalog_cache_hits_total")
}

/// The value of the counter `name` in a /metrics text (0 when absent).
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(['{', ' ']))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The catalog cache's counters: entry hits and misses, stock hits and misses.
pub(crate) async fn counters(app: &TestApp) -> [f64; 4] {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    [
        "catalog_cache_hits_total",
        "catalog_cache_misses_total",
        "catalog_stock_cache_hits_total",
        "catalog_stock_cache_misses_total",
    ]
    .map(|name| counter(&metrics, name))
}

pub(crate) fn delta(after: [f64; 4], before: [f64; 4]) -> [f64; 4] {
    [0, 1, 2, 3].map(|i| after[i] - before[i])
}

async fn post(app: &TestApp, path: &str) -> u16 {
    app.http
        .post(app.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The stock the product detail and the list page of `category` show.
async fn shown_stock(app: &TestApp, id: u64, category: &str) -> (i64, i64) {
    let detail = app.get_json(&format!("/api/products/{id}")).await;
    let list = app
        .get_json(&format!("/api/products?category={category}"))
        .await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .expect("the product is listed")
        .clone();
    (
        detail["stock"].as_i64().unwrap(),
        item["stock"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn an_order_changes_only_the_stock_and_the_next_reads_show_it() {
    let app = spawn_app().await;
    let id = app.create("Kettle", 30000, 5, "Kitchen").await["id"]
        .as_u64()
        .unwrap();
    app.create("Pan", 20000, 7, "Kitchen").await;
    for _ in 0..2 {
        assert_eq!(shown_stock(&app, id, "Kitchen").await, (5, 5));
    }

    let before = counters(&app).await;
    assert_eq!(
        app.reserve(1, json!([{"product_id": id, "quantity": 2}]))
            .await
            .status(),
        200
    );
    assert_eq!(shown_stock(&app, id, "Kitchen").await, (3, 3));
    assert_eq!(
        delta(counters(&app).await, before),
        // Both entries are hits (the generation did not move); the product's stock is
        // read from MySQL once (detail), then cached (list); the Pan's stock is cached.
        [2.0, 0.0, 2.0, 1.0],
        "a reservation invalidates only the product's stock"
    );

    let before = counters(&app).await;
    assert_eq!(post(&app, "/internal/reservations/1/commit").await, 200);
    assert_eq!(shown_stock(&app, id, "Kitchen").await, (3, 3));
    assert_eq!(
        delta(counters(&app).await, before),
        [2.0, 0.0, 3.0, 0.0],
        "a commit invalidates nothing"
    );

    let before = counters(&app).await;
    assert_eq!(post(&app, "/internal/reservations/1/release").await, 200);
    assert_eq!(shown_stock(&app, id, "Kitchen").await, (5, 5));
    assert_eq!(
        delta(counters(&app).await, before),
        [2.0, 0.0, 2.0, 1.0],
        "a release invalidates only the product's stock"
    );
    assert_eq!(app.stock_in_mysql(id).await, 5);
}

#[tokio::test]
async fn concurrent_readers_never_see_more_stock_than_is_left() {
    const START: i64 = 100;
    const ORDERS: u64 = 60;
    let app = Arc::new(spawn_app().await);
    let id = app.create("Hot Item", 1000, START, "Deals").await["id"]
        .as_u64()
        .unwrap();
    assert_eq!(shown_stock(&app, id, "Deals").await, (START, START));
    let before = counters(&app).await;

    // Reservations completed so far (counted after each answer).
    let completed = Arc::new(AtomicI64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    // Product pages, list pages, and (the fifth) the internal batch lookup.
    for reader in 0..5 {
        let (app, completed, done) = (app.clone(), completed.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                let reserved = completed.load(Ordering::SeqCst);
                let path = match reader {
                    4 => format!("/internal/products?ids={id}"),
                    _ if reader % 2 == 0 => format!("/api/products/{id}"),
                    _ => "/api/products?category=Deals".to_owned(),
                };
                let v = app.get_json(&path).await;
                let product = match v.get("items") {
                    Some(items) => &items[0],
                    None if v.is_array() => &v[0],
                    None => &v,
                };
                let stock = product["stock"].as_i64().unwrap();
                assert!(
                    stock <= START - reserved,
                    "{path} showed {stock} after {reserved} reservations had completed"
                );
                reads += 1;
            }
            reads
        }));
    }
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (app, completed) = (app.clone(), completed.clone());
        writers.push(tokio::spawn(async move {
            for n in 0..ORDERS / 4 {
                let order_id = 1 + writer * ORDERS + n;
                let r = app
                    .reserve(order_id, json!([{"product_id": id, "quantity": 1}]))
                    .await;
                assert_eq!(r.status(), 200);
                completed.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let mut reads = 0;
    for r in readers {
        reads += r.await.unwrap();
    }
    assert!(reads > 0);

    let left = START - ORDERS as i64;
    assert_eq!(app.stock_in_mysql(id).await, left);
    assert_eq!(shown_stock(&app, id, "Deals").await, (left, left));
    let delta = delta(counters(&app).await, before);
    assert_eq!(
        delta[1], 0.0,
        "reservations never invalidate the cached entries"
    );
    assert!(delta[0] > 0.0);
}

#[tokio::test]
async fn a_stock_bump_redis_refuses_bypasses_the_cache_until_it_succeeds() {
    let redis = RedisServer::start();
    let app = spawn_with_redis(&redis.url()).await;
    let id = app.create("Kettle", 30000, 5, "Kitchen").await["id"]
        .as_u64()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(shown_stock(&app, id, "Kitchen").await, (5, 5));
    }

    // Redis refuses writes (out of memory) but still answers reads: the stock bump fails
    // while the old stock entries stay readable.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let set_maxmemory = |bytes: &str| {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg(bytes)
            .to_owned()
    };
    set_maxmemory("1")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        app.reserve(1, json!([{"product_id": id, "quantity": 2}]))
            .await
            .status(),
        200
    );
    let before = counters(&app).await;
    assert_eq!(shown_stock(&app, id, "Kitchen").await, (3, 3));
    assert_eq!(
        delta(counters(&app).await, before),
        [0.0; 4],
        "the cache is bypassed"
    );

    set_maxmemory("0")
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(shown_stock(&app, id, "Kitchen").await, (3, 3));
    }
    assert!(
        delta(counters(&app).await, before)[0] > 0.0,
        "caching resumes"
    );
}

#[tokio::test]
async fn without_redis_the_catalog_answers_from_mysql_and_caching_resumes_after() {
    let redis = RedisServer::start();
    let app = spawn_with_redis(&redis.url()).await;
    let p = app.create("Kettle", 30000, 5, "Kitchen").await;
    let id = p["id"].as_u64().unwrap();
    let detail = format!("/api/products/{id}");
    app.get_json(&detail).await;
    let before = hits(&app.get("/metrics").await.text().await.unwrap());
    assert_eq!(app.get_json(&detail).await["price"], 30000);
    assert!(
        hits(&app.get("/metrics").await.text().await.unwrap()) > before,
        "the page is cached before the outage"
    );

    // Redis goes away with the page still in it (saved to disk), and comes back with it.
    let stopped = redis.stop_keeping_data();
    let ready: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded");
    // Still correct, and the write cannot invalidate the cached page.
    let r = app
        .admin(reqwest::Method::PUT, &detail)
        .json(&json!({"name": "Kettle", "description": "", "price": 1000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(app.get_json(&detail).await["price"], 1000);
    assert_eq!(app.get_json("/api/products").await["total"], 1);

    // Redis comes back; this process still holds the page it cached before the outage.
    let _redis = stopped.restart();
    let before = hits(&app.get("/metrics").await.text().await.unwrap());
    let resumed = poll(|| async {
        assert_eq!(
            app.get_json(&detail).await["price"],
            1000,
            "a page cached before the outage was served after it"
        );
        hits(&app.get("/metrics").await.text().await.unwrap()) > before
    })
    .await;
    assert!(resumed, "caching resumes without a restart");
    assert_eq!(app.get_json(&detail).await["price"], 1000);
    let ready: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
}

/// Polls `check` every 50 ms until it returns true (true), or for 10 s (false): for what
/// the service does on its own time (reconnecting to Redis).
async fn poll<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /internal/products?ids=…`: the batch lookup behind every cart view and checkout.
async fn lookup(app: &TestApp, ids: &[u64]) -> Value {
    let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
    app.get_json(&format!("/internal/products?ids={}", ids.join(",")))
        .await
}

pub(crate) fn id_of(product: &Value) -> u64 {
    product["id"].as_u64().unwrap()
}

/// The `field` of each product of a lookup, in order.
fn field(products: &Value, name: &str) -> Vec<Value> {
    products
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[name].clone())
        .collect()
}

/// A product without the fields an order moves (its stock, and the `updated_at` MySQL
/// bumps with it): what must not change when only stock does.
fn without_stock(product: &Value) -> Value {
    let mut product = product.clone();
    let fields = product.as_object_mut().unwrap();
    fields.remove("stock");
    fields.remove("updated_at");
    product
}

pub(crate) async fn delete(app: &TestApp, id: u64) {
    assert_eq!(app.delete_product(id).await, 204);
}

#[tokio::test]
async fn the_batch_lookup_answers_live_products_in_the_order_asked_then_from_the_cache() {
    let app = spawn_app().await;
    let kettle = app.create("Kettle", 30000, 5, "Kitchen").await;
    let pan = app.create("Pan", 20000, 7, "Kitchen").await;
    let whisk = app.create("Whisk", 5000, 3, "Kitchen").await;
    let mug = app.create("Mug", 8000, 9, "Kitchen").await;
    let (k, p, w, m) = (id_of(&kettle), id_of(&pan), id_of(&whisk), id_of(&mug));
    delete(&app, w).await;
    let unknown = m + 1000;
    // Not in id order, with an unknown id, a deleted one and duplicates: 5 distinct ids.
    let asked = [m, unknown, k, w, m, p, k];

    let before = counters(&app).await;
    let first = lookup(&app, &asked).await;
    assert_eq!(
        first,
        json!([mug, kettle, pan]),
        "the live products, in the order asked, each once, as created"
    );
    assert_eq!(
        delta(counters(&app).await, before),
        [0.0, 5.0, 0.0, 0.0],
        "one entry miss per distinct id (the admin writes bumped the generation)"
    );

    let before = counters(&app).await;
    assert_eq!(lookup(&app, &asked).await, first);
    assert_eq!(
        delta(counters(&app).await, before),
        // Unknown and deleted ids are cached as such too; the stock of the three found is
        // read from MySQL once, then cached.
        [5.0, 0.0, 0.0, 3.0],
        "every distinct id is an entry hit"
    );

    let before = counters(&app).await;
    assert_eq!(lookup(&app, &asked).await, first);
    assert_eq!(
        delta(counters(&app).await, before),
        [5.0, 0.0, 3.0, 0.0],
        "entries and stocks all come from the cache"
    );

    assert_eq!(lookup(&app, &[w, unknown, w]).await, json!([]));
    assert_eq!(lookup(&app, &[]).await, json!([]));
}

#[tokio::test]
async fn the_batch_lookup_shows_reserved_and_released_stock_while_hitting_the_entry_cache() {
    let app = spawn_app().await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let p = id_of(&app.create("Pan", 20000, 7, "Kitchen").await);
    let asked = [p, k];
    // Entries, then stocks, cached.
    lookup(&app, &asked).await;
    let warm = lookup(&app, &asked).await;
    assert_eq!(field(&warm, "stock"), [json!(7), json!(5)]);

    assert_eq!(
        app.reserve(1, json!([{"product_id": k, "quantity": 2}]))
            .await
            .status(),
        200
    );
    let before = counters(&app).await;
    let reserved = lookup(&app, &asked).await;
    assert_eq!(
        delta(counters(&app).await, before),
        // The Kettle's stock generation moved, so only its stock is read again.
        [2.0, 0.0, 1.0, 1.0],
        "a reservation invalidates no entry"
    );
    assert_eq!(field(&reserved, "id"), [json!(p), json!(k)]);
    assert_eq!(field(&reserved, "stock"), [json!(7), json!(3)]);
    assert_eq!(app.stock_in_mysql(k).await, 3);
    for (now, then) in reserved
        .as_array()
        .unwrap()
        .iter()
        .zip(warm.as_array().unwrap())
    {
        assert_eq!(without_stock(now), without_stock(then));
    }
    assert_eq!(
        app.get_json(&format!("/api/products/{k}")).await["stock"],
        3,
        "the product page agrees"
    );

    assert_eq!(post(&app, "/internal/reservations/1/release").await, 200);
    let before = counters(&app).await;
    let released = lookup(&app, &asked).await;
    assert_eq!(
        delta(counters(&app).await, before),
        [2.0, 0.0, 1.0, 1.0],
        "a release invalidates no entry"
    );
    assert_eq!(field(&released, "stock"), [json!(7), json!(5)]);
    assert_eq!(app.stock_in_mysql(k).await, 5);
    for (now, then) in released
        .as_array()
        .unwrap()
        .iter()
        .zip(warm.as_array().unwrap())
    {
        assert_eq!(without_stock(now), without_stock(then));
    }
}

#[tokio::test]
async fn the_batch_lookup_shows_admin_writes_at_once() {
    let app = spawn_app().await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let p = id_of(&app.create("Pan", 20000, 7, "Kitchen").await);
    let asked = [k, p];
    for _ in 0..2 {
        assert_eq!(
            field(&lookup(&app, &asked).await, "price"),
            [json!(30000), json!(20000)]
        );
    }

    let r = app
        .admin(reqwest::Method::PUT, &format!("/api/products/{k}"))
        .json(&json!({"name": "Kettle", "description": "", "price": 25000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let changed = lookup(&app, &asked).await;
    assert_eq!(field(&changed, "price"), [json!(25000), json!(20000)]);
    assert_eq!(
        field(&changed, "stock"),
        [json!(5), json!(7)],
        "PUT without stock keeps it"
    );
    assert_eq!(changed[0], r.json::<Value>().await.unwrap());

    let r = app
        .admin(reqwest::Method::PATCH, &format!("/api/products/{p}/stock"))
        .json(&json!({"delta": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        field(&lookup(&app, &asked).await, "stock"),
        [json!(5), json!(10)]
    );

    delete(&app, k).await;
    assert_eq!(field(&lookup(&app, &asked).await, "id"), [json!(p)]);
}

#[tokio::test]
async fn the_batch_lookup_and_the_product_page_share_one_cache_entry() {
    let app = spawn_app().await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let p = id_of(&app.create("Pan", 20000, 7, "Kitchen").await);
    let unknown = p + 1000;

    // Lookup first, then the page.
    let before = counters(&app).await;
    let looked_up = lookup(&app, &[k]).await;
    assert_eq!(delta(counters(&app).await, before)[..2], [0.0, 1.0]);
    let before = counters(&app).await;
    let page = app.get_json(&format!("/api/products/{k}")).await;
    assert_eq!(
        delta(counters(&app).await, before)[..2],
        [1.0, 0.0],
        "the page hits the entry the lookup filled"
    );
    assert_eq!(page, looked_up[0]);

    // The page first, then the lookup.
    let before = counters(&app).await;
    let page = app.get_json(&format!("/api/products/{p}")).await;
    assert_eq!(delta(counters(&app).await, before)[..2], [0.0, 1.0]);
    let before = counters(&app).await;
    let looked_up = lookup(&app, &[p]).await;
    assert_eq!(
        delta(counters(&app).await, before)[..2],
        [1.0, 0.0],
        "the lookup hits the entry the page filled"
    );
    assert_eq!(looked_up, json!([page]));

    // "No such product" is shared too.
    assert_eq!(
        app.get(&format!("/api/products/{unknown}")).await.status(),
        404
    );
    let before = counters(&app).await;
    assert_eq!(lookup(&app, &[unknown]).await, json!([]));
    assert_eq!(delta(counters(&app).await, before)[..2], [1.0, 0.0]);

    let before = counters(&app).await;
    let all = lookup(&app, &[p, unknown, k]).await;
    assert_eq!(field(&all, "id"), [json!(p), json!(k)]);
    assert_eq!(delta(counters(&app).await, before)[..2], [3.0, 0.0]);
}

#[tokio::test]
async fn without_redis_the_batch_lookup_answers_from_mysql_and_caching_resumes_after() {
    let redis = RedisServer::start();
    let app = spawn_with_redis(&redis.url()).await;
    let kettle = app.create("Kettle", 30000, 5, "Kitchen").await;
    let pan = app.create("Pan", 20000, 7, "Kitchen").await;
    let mug = app.create("Mug", 8000, 9, "Kitchen").await;
    let (k, p, m) = (id_of(&kettle), id_of(&pan), id_of(&mug));
    delete(&app, p).await;
    let unknown = m + 1000;
    // Not in id order: MySQL alone would answer in id order.
    let asked = [m, unknown, k, p, m];
    for _ in 0..2 {
        assert_eq!(lookup(&app, &asked).await, json!([mug, kettle]));
    }

    // Redis goes away with the entries still in it (saved to disk), and comes back with them.
    let stopped = redis.stop_keeping_data();
    let ready: Value = app.get("/ready").await.json().await.unwrap();
    assert_eq!(ready["status"], "degraded");
    assert_eq!(
        lookup(&app, &asked).await,
        json!([mug, kettle]),
        "the same answer, from MySQL"
    );
    // Stock and admin writes show at once (and their bumps fail: the cache is bypassed).
    assert_eq!(
        app.reserve(1, json!([{"product_id": k, "quantity": 2}]))
            .await
            .status(),
        200
    );
    assert_eq!(
        field(&lookup(&app, &asked).await, "stock"),
        [json!(9), json!(3)]
    );
    let r = app
        .admin(reqwest::Method::PUT, &format!("/api/products/{m}"))
        .json(&json!({"name": "Mug", "description": "", "price": 1000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let during = lookup(&app, &asked).await;
    assert_eq!(field(&during, "id"), [json!(m), json!(k)]);
    assert_eq!(field(&during, "price"), [json!(1000), json!(30000)]);
    assert_eq!(field(&during, "stock"), [json!(9), json!(3)]);

    // Redis comes back; this process still holds the Mug's entry cached before the outage.
    let _redis = stopped.restart();
    let before = hits(&app.get("/metrics").await.text().await.unwrap());
    let resumed = poll(|| async {
        assert_eq!(
            lookup(&app, &asked).await,
            during,
            "an entry or a stock cached before the outage was served after it"
        );
        hits(&app.get("/metrics").await.text().await.unwrap()) > before
    })
    .await;
    assert!(resumed, "caching resumes without a restart");
    assert_eq!(post(&app, "/internal/reservations/1/release").await, 200);
    for _ in 0..2 {
        let after = lookup(&app, &asked).await;
        assert_eq!(field(&after, "price"), [json!(1000), json!(30000)]);
        assert_eq!(field(&after, "stock"), [json!(9), json!(5)]);
    }
}

/// A connection to the Redis `app` uses.
async fn redis_conn(app: &TestApp) -> redis::aio::MultiplexedConnection {
    redis::Client::open(app.redis_url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// MONITOR on a private Redis: the commands its clients send, told apart from those the
/// scripts they call run.
struct Monitor {
    lines: tokio::io::Lines<BufReader<TcpStream>>,
    conn: redis::aio::MultiplexedConnection,
}

impl Monitor {
    async fn start(app: &TestApp, redis: &RedisServer) -> Self {
        let mut stream = TcpStream::connect(("127.0.0.1", redis.port)).await.unwrap();
        stream.write_all(b"MONITOR\r\n").await.unwrap();
        let mut lines = BufReader::new(stream).lines();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("+OK"));
        Self {
            lines,
            conn: redis_conn(app).await,
        }
    }

    /// The names of the commands clients sent since the last call (a marker sent now
    /// comes after all of them).
    async fn client_commands(&mut self) -> Vec<String> {
        let marker = format!("marker-{}", uuid::Uuid::new_v4().simple());
        redis::cmd("ECHO")
            .arg(&marker)
            .query_async::<String>(&mut self.conn)
            .await
            .unwrap();
        let mut commands = Vec::new();
        loop {
            let line = self
                .lines
                .next_line()
                .await
                .unwrap()
                .expect("MONITOR output");
            if line.contains(&marker) {
                return commands;
            }
            // `+<time> [<db> <client>] "<command>" …`, where the client of a command a
            // script ran is `lua`.
            let (client, command) = line.split_once("] ").expect("a MONITOR line");
            if !client.ends_with(" lua") {
                let name = command.split(' ').next().unwrap_or_default();
                commands.push(name.trim_matches('"').to_lowercase());
            }
        }
    }
}

#[tokio::test]
async fn a_cache_hit_asks_nothing_of_redis_and_shows_the_current_stock() {
    let redis = RedisServer::start();
    let app = spawn_with_redis(&redis.url()).await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let p = id_of(&app.create("Pan", 20000, 7, "Kitchen").await);
    let reads = [
        format!("/api/products/{k}"),
        "/api/products?category=Kitchen".to_owned(),
        format!("/internal/products?ids={p},{k}"),
    ];
    // Entries, then stocks, cached.
    for _ in 0..2 {
        for path in &reads {
            app.get_json(path).await;
        }
    }
    let mut monitor = Monitor::start(&app, &redis).await;

    for path in &reads {
        let before = counters(&app).await;
        app.get_json(path).await;
        assert_eq!(
            monitor.client_commands().await,
            Vec::<String>::new(),
            "{path}"
        );
        let delta = delta(counters(&app).await, before);
        assert_eq!(
            (delta[1], delta[3]),
            (0.0, 0.0),
            "{path}: all from the cache"
        );
    }

    // A reservation moves the Kettle's stock: it tells the other processes (and moves the
    // generation older builds read); each hit shows it, the first reading it from MySQL,
    // the others from the cache.
    assert_eq!(
        app.reserve(1, json!([{"product_id": k, "quantity": 2}]))
            .await
            .status(),
        200
    );
    assert_eq!(monitor.client_commands().await, ["incrby", "publish"]);
    let before = counters(&app).await;
    assert_eq!(app.get_json(&reads[0]).await["stock"], 3);
    assert_eq!(delta(counters(&app).await, before), [1.0, 0.0, 0.0, 1.0]);
    let list = app.get_json(&reads[1]).await;
    let lookup = app.get_json(&reads[2]).await;
    assert_eq!(
        monitor.client_commands().await,
        Vec::<String>::new(),
        "reads ask nothing of Redis"
    );
    assert_eq!(field(&list["items"], "id"), [json!(p), json!(k)]);
    assert_eq!(field(&list["items"], "stock"), [json!(7), json!(3)]);
    assert_eq!(field(&lookup, "stock"), [json!(7), json!(3)]);
}

#[tokio::test]
async fn what_older_builds_kept_in_redis_is_never_served() {
    let app = spawn_app().await;
    let k = id_of(&app.create("Kettle", 30000, 5, "Kitchen").await);
    let detail = format!("/api/products/{k}");
    let page = app.get_json(&detail).await;
    let mut conn = redis_conn(&app).await;
    let generation: u64 = redis::cmd("GET")
        .arg(format!("{}catalog:gen", app.redis_prefix))
        .query_async(&mut conn)
        .await
        .unwrap();
    let mut stale = page.clone();
    stale["price"] = json!(1);
    stale["stock"] = json!(999);
    // Where older builds kept the product page, bare and with a head of product ids.
    for (key, value) in [
        (format!("product:{k}"), stale.to_string()),
        (format!("stocked:product:{k}"), stale.to_string()),
        (format!("stocked:product:{k}"), format!("{k}\n{stale}")),
    ] {
        redis::cmd("SET")
            .arg(format!("{}catalog:{generation}:{key}", app.redis_prefix))
            .arg(value)
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
        for read in [detail.clone(), format!("/internal/products?ids={k}")] {
            let answer = app.get_json(&read).await;
            let product = if answer.is_array() {
                &answer[0]
            } else {
                &answer
            };
            assert_eq!(product, &page, "{read} after {key} was written");
        }
    }
}

#[tokio::test]
async fn a_change_made_by_the_other_slot_shows_here() {
    let blue = spawn_app().await;
    let green = blue.twin().await;
    let k = id_of(&blue.create("Kettle", 30000, 5, "Kitchen").await);
    let detail = format!("/api/products/{k}");
    let reads = [
        detail.clone(),
        "/api/products?category=Kitchen".to_owned(),
        format!("/internal/products?ids={k}"),
    ];
    // Both slots cache the Kettle.
    for app in [&blue, &green] {
        for _ in 0..2 {
            assert_eq!(shown_stock(app, k, "Kitchen").await, (5, 5));
            app.get_json(&reads[2]).await;
        }
    }
    let before = counters(&green).await;
    assert_eq!(shown_stock(&green, k, "Kitchen").await, (5, 5));
    assert_eq!(
        delta(counters(&green).await, before)[..2],
        [2.0, 0.0],
        "green serves from its cache"
    );

    // blue reserves: green's reads show the stock once the message is in, and never the
    // old stock after that.
    assert_eq!(
        blue.reserve(1, json!([{"product_id": k, "quantity": 2}]))
            .await
            .status(),
        200
    );
    assert!(
        poll(|| async { shown_stock(&green, k, "Kitchen").await == (3, 3) }).await,
        "green shows blue's reservation"
    );
    for path in &reads {
        let answer = green.get_json(path).await;
        let product = match answer.get("items") {
            Some(items) => items[0].clone(),
            None if answer.is_array() => answer[0].clone(),
            None => answer.clone(),
        };
        assert_eq!(product["stock"], 3, "{path}");
    }

    // blue changes the price: the same for every entry.
    let r = blue
        .admin(reqwest::Method::PUT, &detail)
        .json(&json!({"name": "Kettle", "description": "", "price": 25000, "category": "Kitchen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        poll(|| async { green.get_json(&detail).await["price"] == 25000 }).await,
        "green shows blue's price"
    );
    assert_eq!(
        green.get_json("/api/products?category=Kitchen").await["items"][0]["price"],
        25000
    );
    assert_eq!(
        field(&green.get_json(&reads[2]).await, "price"),
        [json!(25000)]
    );

    // And the other way round.
    assert_eq!(
        green
            .reserve(2, json!([{"product_id": k, "quantity": 3}]))
            .await
            .status(),
        200
    );
    assert!(
        poll(|| async { shown_stock(&blue, k, "Kitchen").await == (0, 0) }).await,
        "blue shows green's reservation"
    );
}
