//! Every log line a test binary writes, as the services' own JSON layer writes it: for
//! tests that check what was (and was not) logged, and under which trace id.

use std::sync::OnceLock;

use mall_runtime::telemetry::capture::Captured;
use mall_runtime::telemetry::{Identity, JsonLayer};
use tracing_subscriber::layer::SubscriberExt;

/// The lines of this test binary from the first call on. The subscriber is global (the
/// services' tasks run on the runtime's worker threads), so the first call's `filter`
/// (an `EnvFilter` directive, e.g. `warn,payment_service=trace,mall_http=info`) is the one
/// in force; keep the request span's crate (`mall_http`) at info or finer, or lines lose
/// their trace id.
pub fn captured(service: &str, filter: &str) -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let identity = Identity {
            service: service.into(),
            color: "blue".into(),
            version: "test".into(),
        };
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new(filter))
            .with(JsonLayer::new(identity, captured.clone()));
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        captured
    })
}
