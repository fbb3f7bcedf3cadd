use std::time::Duration;

use gateway_sim::config::Config;
use serde_json::{json, Value};

/// A running simulator; stopped when dropped.
pub struct TestSim {
    pub url: String,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A simulator whose `tok_timeout` answers after `timeout_delay`.
pub async fn spawn_sim(timeout_delay: Duration) -> TestSim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        gateway_sim::run(Config::for_tests(timeout_delay), listener, async {
            rx.await.ok();
        })
        .await
        .unwrap()
    });
    mall_testkit::wait_ready(&url).await;
    TestSim {
        url,
        http: reqwest::Client::new(),
        stop: Some(tx),
    }
}

pub fn charge_body(key: &str, amount: i64, token: &str) -> Value {
    json!({
        "idempotency_key": key,
        "amount": amount,
        "currency": "KRW",
        "card_token": token,
        "reference": format!("order-{key}"),
    })
}

impl TestSim {
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/charges`, status and body.
    pub async fn charge(&self, key: &str, amount: i64, token: &str) -> (u16, Value) {
        let r = self
            .post("/v1/charges", &charge_body(key, amount, token))
            .await;
        (r.status().as_u16(), r.json().await.unwrap())
    }

    pub async fn by_key(&self, key: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/v1/charges?idempotency_key={key}"))
            .await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn stats(&self) -> Value {
        let r = self.get("/v1/stats").await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn set_mode(&self, mode: &str, delay_ms: u64) {
        let r = self
            .post(
                "/v1/control",
                &json!({ "mode": mode, "delay_ms": delay_ms }),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
}
