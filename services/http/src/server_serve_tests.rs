//! The serving loop end to end: every line written while serving a request carries its
//! trace id, including a spawned task's and the next service's after an outbound call.
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use warp::{Filter, Reply};

use super::*;
use mall_contracts::ServiceClient;
use mall_runtime::telemetry::{capture::Captured, Identity, JsonLayer};

fn captured() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let c = Captured::default();
        let identity = Identity {
            service: "svc".into(),
            color: "green".into(),
            version: "9".into(),
        };
        let subscriber = tracing_subscriber::registry().with(JsonLayer::new(identity, c.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
        c
    })
}

async fn start(
    name: &str,
    routes: BoxedFilter<(Response,)>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let info = ServiceInfo {
        name: name.into(),
        color: "green".into(),
        version: "9".into(),
    };
    let app = App {
        metrics: Arc::new(Metrics::new(&info).expect("metrics")),
        info,
        routes,
        readiness: Readiness {
            mysql: None,
            redis: None,
        },
        grace: Duration::from_secs(1),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(app, listener, async {
        rx.await.ok();
    }));
    (format!("http://{addr}"), tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_of_a_request_has_its_trace_id_across_tasks_and_hops() {
    let captured = captured();
    let echo = warp::path!("echo").map(|| {
        tracing::info!(hop = "downstream", "downstream handler");
        warp::reply::json(&serde_json::json!({"ok": true})).into_response()
    });
    let (down_url, _down) = start("down", echo.boxed()).await;
    let client = ServiceClient::new(&down_url, Duration::from_secs(2)).expect("client");
    let work = warp::path!("work").then(move || {
        let client = client.clone();
        async move {
            tracing::info!("handler line");
            tokio::spawn(
                async { tracing::info!("spawned line") }.instrument(tracing::Span::current()),
            )
            .await
            .expect("task");
            let _: serde_json::Value = client.get_json("/echo").await.expect("downstream call");
            warp::reply().into_response()
        }
    });
    let (up_url, _up) = start("up", work.boxed()).await;
    let trace = "5bf92f3577b34da6a3ce929d0e0e4736";
    let resp = reqwest::Client::new()
        .get(format!("{up_url}/work"))
        .header("x-trace-id", trace)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-trace-id"], trace);
    assert_eq!(resp.headers()["x-served-by"], "up-green@9");
    let lines: Vec<_> = captured
        .lines()
        .into_iter()
        .filter(|l| l.get("trace_id").and_then(|t| t.as_str()) == Some(trace))
        .collect();
    let msgs: Vec<&str> = lines.iter().filter_map(|l| l["msg"].as_str()).collect();
    for expected in [
        "handler line",
        "spawned line",
        "downstream handler",
        "request completed",
    ] {
        assert!(msgs.contains(&expected), "missing {expected:?} in {msgs:?}");
    }
    let head = reqwest::Client::new()
        .head(format!("{up_url}/work"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 200, "HEAD answers like GET");
    // Both hops wrote their access line under the same id.
    assert_eq!(
        msgs.iter().filter(|m| **m == "request completed").count(),
        2
    );
    // Nothing logged by a request handler lacks the id.
    for line in captured.lines() {
        let msg = line["msg"].as_str().unwrap_or("");
        if [
            "handler line",
            "spawned line",
            "downstream handler",
            "request completed",
        ]
        .contains(&msg)
        {
            assert!(
                line.get("trace_id").is_some(),
                "line without trace_id: {line}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_carrying_a_token_is_refused_before_any_route() {
    let captured = captured();
    let reached = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = reached.clone();
    let route = warp::path!("me").map(move || {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        warp::reply().into_response()
    });
    let (url, _stop) = start("tokenless", route.boxed()).await;
    let trace = "6bf92f3577b34da6a3ce929d0e0e4736";
    let token = "Bearer eyJhbGciOiJSUzI1NiJ9.secret-part.signature";

    let refused = reqwest::Client::new()
        .get(format!("{url}/me"))
        .header("x-trace-id", trace)
        .header("x-user-id", "7")
        .header("authorization", token)
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "bad_request");
    assert_eq!(body["error"]["trace_id"], trace);
    assert!(!body.to_string().contains("secret-part"), "{body}");
    assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 0);

    let plain = reqwest::Client::new()
        .get(format!("{url}/me"))
        .header("x-user-id", "7")
        .send()
        .await
        .expect("request");
    assert_eq!(plain.status(), 200, "the same request without the token");
    assert_eq!(reached.load(std::sync::atomic::Ordering::SeqCst), 1);

    let lines: Vec<_> = captured
        .lines()
        .into_iter()
        .filter(|l| l.get("trace_id").and_then(|t| t.as_str()) == Some(trace))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["msg"] == "refused a request that carried an Authorization header"),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.to_string().contains("secret-part")));
}
