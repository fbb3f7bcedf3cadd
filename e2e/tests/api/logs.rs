//! What support engineers rely on: one request's trace id in nginx's JSON access log and in
//! the service's log lines (`MALL_LOG_DIR`, as scripts/dev lays it out).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{eventually, mall, required_env, send};

fn log_dir() -> PathBuf {
    PathBuf::from(required_env("MALL_LOG_DIR"))
}

/// The JSON lines of the `.log` files directly in `dir` whose `trace_id` is `trace`.
fn lines_with_trace(dir: &PathBuf, trace: &str) -> Vec<Value> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|text| {
            text.lines()
                .filter(|l| l.contains(trace))
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .filter(|v| v["trace_id"] == trace)
        .collect()
}

#[tokio::test]
async fn access_log_records_the_request_as_json_with_trace_and_user() {
    let mall = mall();
    let (user, tokens) = mall.customer().await;
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let nginx_logs = log_dir().join("nginx");

    let reply = send(
        mall.get("/api/users/me")
            .bearer_auth(&tokens.access)
            .header("X-Trace-Id", &trace),
    )
    .await;

    reply.expect_status(StatusCode::OK);
    let mut line = Value::Null;
    let found = eventually(Duration::from_secs(3), || {
        let found = lines_with_trace(&nginx_logs, &trace).into_iter().next();
        if let Some(l) = found.clone() {
            line = l;
        }
        async move { found.is_some() }
    })
    .await;
    assert!(
        found,
        "no access log line with trace id {trace} in {}",
        nginx_logs.display()
    );
    assert_eq!(line["method"], "GET");
    assert_eq!(line["uri"], "/api/users/me");
    assert_eq!(line["status"], 200);
    assert_eq!(line["user_id"], user.id.to_string());
    assert!(
        line["served_by"]
            .as_str()
            .is_some_and(|s| s.starts_with("user-")),
        "{line}"
    );
    assert!(
        line["upstream_addr"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{line}"
    );
    assert!(
        line["ts"].as_str().is_some_and(|s| s.contains('T')),
        "{line}"
    );
    assert!(line["request_time"].is_number(), "{line}");
}

#[tokio::test]
async fn service_log_lines_carry_the_requests_trace_id() {
    let mall = mall();
    let user = mall.register().await;
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let dir = log_dir();

    send(
        mall.post("/api/users/login")
            .header("X-Trace-Id", &trace)
            .json(&serde_json::json!({ "email": user.email, "password": user.password })),
    )
    .await
    .expect_status(StatusCode::OK);

    let found = eventually(Duration::from_secs(3), || {
        let lines = lines_with_trace(&dir, &trace);
        async move {
            lines
                .iter()
                .any(|l| l["service"].as_str().is_some_and(|s| s.starts_with("user")))
        }
    })
    .await;
    assert!(
        found,
        "no user service log line with trace id {trace} in {}",
        dir.display()
    );
    let all = lines_with_trace(&dir, &trace);
    let text = serde_json::to_string(&all).unwrap_or_default();
    assert!(
        !text.contains(&user.password),
        "a log line contains the password"
    );
}
