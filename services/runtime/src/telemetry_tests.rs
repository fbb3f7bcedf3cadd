use super::capture::Captured;
use super::*;
use tracing::Instrument;

fn identity() -> Identity {
    Identity {
        service: "test".into(),
        color: "blue".into(),
        version: "1.2.3".into(),
    }
}

#[test]
fn lines_carry_fixed_fields_and_span_trace_id() {
    let captured = Captured::default();
    let subscriber =
        tracing_subscriber::registry().with(JsonLayer::new(identity(), captured.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside");
        let span = tracing::info_span!(
            "request",
            trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
            user_id = tracing::field::Empty
        );
        let _g = span.enter();
        span.record("user_id", 7);
        tracing::warn!(order_id = 3, "inside \"quoted\"\r\n");
    });
    let lines = captured.lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].get("trace_id").is_none());
    assert_eq!(lines[0]["service"], "test");
    assert_eq!(lines[1]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(lines[1]["user_id"], 7);
    assert_eq!(lines[1]["order_id"], 3);
    assert_eq!(lines[1]["level"], "WARN");
    assert_eq!(lines[1]["color"], "blue");
    assert_eq!(lines[1]["version"], "1.2.3");
    assert_eq!(lines[1]["msg"], "inside \"quoted\"\r\n");
}

#[tokio::test]
async fn spawned_task_instrumented_with_the_span_keeps_trace_id() {
    let captured = Captured::default();
    let subscriber =
        tracing_subscriber::registry().with(JsonLayer::new(identity(), captured.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let span = tracing::info_span!("request", trace_id = "0123456789abcdef0123456789abcdef");
    async {
        let handle = tokio::spawn(
            async { tracing::info!("from a spawned task") }.instrument(tracing::Span::current()),
        );
        handle.await.expect("task");
    }
    .instrument(span)
    .await;
    let lines = captured.lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["trace_id"], "0123456789abcdef0123456789abcdef");
}
