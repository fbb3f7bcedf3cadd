//! Trace ids: parsing the one a client or nginx sent, making a new one, and carrying the
//! current request's id through the task that serves it.

use std::fmt;
use std::future::Future;

use http::HeaderMap;

/// The header every hop reads and writes.
pub const HEADER: &str = "x-trace-id";

/// A W3C-style trace id: exactly 32 lowercase hex characters, not all zeros.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceId(String);

// === impl TraceId ===

impl TraceId {
    /// Accepts only the canonical form; anything else (upper case, wrong length, CR/LF,
    /// quotes) is refused so it can never reach a log line raw.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == 32
            && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            && s.bytes().any(|b| b != b'0');
        ok.then(|| Self(s.to_owned()))
    }

    /// A fresh random id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The id from `X-Trace-Id`, else from a W3C `traceparent`, else `None`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        header(HEADER)
            .and_then(Self::parse)
            .or_else(|| header("traceparent").and_then(Self::from_traceparent))
    }

    /// `version-traceid-parentid-flags`, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`.
    pub fn from_traceparent(tp: &str) -> Option<Self> {
        let mut parts = tp.split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if parts.next().is_some() || !hex(version, 2) || version == "ff" {
            return None;
        }
        if !hex(parent, 16) || !hex(flags, 2) {
            return None;
        }
        Self::parse(trace)
    }

    /// The id from the headers, or a new one.
    pub fn from_headers_or_new(headers: &HeaderMap) -> Self {
        Self::from_headers(headers).unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    static CURRENT: TraceId;
}

/// Runs `fut` with `id` as the current trace id (see [`current`]).
pub async fn scope<F: Future>(id: TraceId, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// The trace id of the request this task is serving, if any. Spawned tasks do not inherit
/// it: they carry the request span instead (`.instrument(Span::current())`), and code that
/// needs the id in a spawned task takes it as an argument.
pub fn current() -> Option<TraceId> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_only_lowercase_hex_of_length_32() {
        assert!(TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736").is_some());
        assert!(TraceId::parse("4BF92F3577B34DA6A3CE929D0E0E4736").is_none());
        assert!(TraceId::parse("4bf92f3577b34da6a3ce929d0e0e473").is_none());
        assert!(TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736\r\n").is_none());
        assert!(TraceId::parse("00000000000000000000000000000000").is_none());
    }

    #[test]
    fn adopts_traceparent_trace_id() {
        let id =
            TraceId::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assert_eq!(
            id.map(|t| t.to_string()).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert!(TraceId::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f0-01").is_none());
    }

    #[test]
    fn header_wins_over_traceparent_and_bad_header_falls_back() {
        let mut h = HeaderMap::new();
        h.insert(HEADER, "not-a-trace".parse().expect("header"));
        h.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .expect("header"),
        );
        assert_eq!(
            TraceId::from_headers(&h).map(|t| t.to_string()).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    proptest! {
        #[test]
        fn generated_ids_always_parse(_n in 0u8..50) {
            let id = TraceId::generate();
            prop_assert_eq!(TraceId::parse(id.as_str()), Some(id));
        }

        #[test]
        fn parse_never_accepts_non_canonical(s in "\\PC{0,40}") {
            if let Some(id) = TraceId::parse(&s) {
                prop_assert_eq!(id.as_str().len(), 32);
                prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            }
        }
    }
}
