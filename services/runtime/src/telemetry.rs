//! JSON log lines on stdout, one object per line, with the fields DESIGN.md fixes:
//! `ts`, `level`, `service`, `color`, `version`, `trace_id` (from the request span, so also
//! on lines from spawned tasks that carry it), `msg`, then the span and event fields.
//!
//! Lines go through an in-memory buffer that a background thread writes out every 20 ms
//! (crate::logbuf: no request waits for the disk; nothing is dropped). [`shutdown`] writes
//! out the rest; every exit path of the services and auth-proxy calls it.
//!
//! The span fields are kept in each span's extensions; the line flattens them from the root
//! span to the innermost, then the event's own fields, so a `trace_id` recorded on the
//! request span is a top-level field of every line written inside it.

use std::io::Write;
use std::os::fd::AsFd;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Who is writing: the fixed fields of every line.
#[derive(Clone, Debug)]
pub struct Identity {
    pub service: String,
    pub color: String,
    pub version: String,
}

type Stdout = crate::logbuf::BatchWriter<std::fs::File>;

/// The log buffer's writer thread, kept until [`shutdown`].
static LOG_OUT: std::sync::Mutex<Option<Stdout>> = std::sync::Mutex::new(None);

/// Installs the JSON layer on standard output (through the log buffer, crate::logbuf) as
/// the global subscriber, filtered by `RUST_LOG` (default `info`).
pub fn init(identity: &Identity) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // The same descriptor as standard output, without its flush at every newline.
    let stdout = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| anyhow::anyhow!("while opening standard output for the logs: {e}"))?;
    let out = crate::logbuf::BatchWriter::start(std::fs::File::from(stdout))
        .map_err(|e| anyhow::anyhow!("while starting the log writer: {e}"))?;
    tracing_subscriber::registry()
        .with(filter)
        .with(JsonLayer::new(identity.clone(), out.handle()))
        .try_init()
        .map_err(|e| anyhow::anyhow!("while installing the log subscriber: {e}"))?;
    if let Ok(mut slot) = LOG_OUT.lock() {
        *slot = Some(out);
    }
    Ok(())
}

/// Writes out every buffered log line and stops the log thread; call before the process
/// exits (`std::process::exit` runs no destructors). Later lines stay in memory.
pub fn shutdown() {
    let out = LOG_OUT.lock().ok().and_then(|mut slot| slot.take());
    if let Some(out) = out {
        out.shutdown();
    }
}

/// The layer; generic over where lines go so tests can capture them.
pub struct JsonLayer<W> {
    identity: Identity,
    writer: W,
}

struct SpanFields(Map<String, Value>);

/// Names the line itself owns; span or event fields of these names are dropped.
const RESERVED: [&str; 6] = ["ts", "level", "service", "color", "version", "msg"];

// === impl JsonLayer ===

impl<W> JsonLayer<W> {
    pub fn new(identity: Identity, writer: W) -> Self {
        Self { identity, writer }
    }

    fn line(&self, event: &Event<'_>, spans: Vec<Map<String, Value>>) -> Vec<u8> {
        let mut line = Map::new();
        line.insert("ts".into(), Value::String(now_rfc3339()));
        line.insert(
            "level".into(),
            Value::String(event.metadata().level().to_string()),
        );
        line.insert("service".into(), self.identity.service.clone().into());
        line.insert("color".into(), self.identity.color.clone().into());
        line.insert("version".into(), self.identity.version.clone().into());
        let mut fields = FieldVisitor::default();
        event.record(&mut fields);
        // trace_id (if any) right after the fixed fields, then msg, then the rest.
        let trace = spans.iter().rev().find_map(|s| s.get("trace_id").cloned());
        if let Some(trace) = trace {
            line.insert("trace_id".into(), trace);
        }
        let msg = fields
            .0
            .remove("message")
            .unwrap_or(Value::String(String::new()));
        line.insert("msg".into(), msg);
        line.insert("target".into(), event.metadata().target().into());
        for (k, v) in spans.into_iter().flatten().chain(fields.0) {
            if !RESERVED.contains(&k.as_str()) {
                line.insert(k, v);
            }
        }
        let mut bytes = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = FieldVisitor::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.0));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(SpanFields(map)) = ext.get_mut::<SpanFields>() {
            let mut fields = FieldVisitor(std::mem::take(map));
            values.record(&mut fields);
            *map = fields.0;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .filter_map(|span| span.extensions().get::<SpanFields>().map(|f| f.0.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let bytes = self.line(event, spans);
        // One write per line keeps lines whole when several threads log at once.
        let _ = self.writer.make_writer().write_all(&bytes);
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[derive(Default)]
struct FieldVisitor(Map<String, Value>);

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, so a log line reads like `while …: because …`.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.0.insert(field.name().into(), text.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

pub mod capture {
    //! A writer that keeps lines in memory, for tests that read what was logged (this
    //! crate's and the services' integration tests, e.g. "no card token in any line").
    use std::io;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

    impl Captured {
        /// Everything written so far, as text.
        pub fn text(&self) -> String {
            let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }

        /// Every line, parsed (panics on a line that is not JSON: for tests only).
        #[allow(clippy::expect_used)] // test support: a line that is not JSON fails the test
        pub fn lines(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
            String::from_utf8_lossy(&bytes)
                .lines()
                .map(|l| serde_json::from_str(l).expect("every line is JSON"))
                .collect()
        }
    }

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if let Ok(mut b) = self.0.lock() {
                b.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }
}

#[cfg(test)]
#[path = "telemetry_tests.rs"]
mod tests;
