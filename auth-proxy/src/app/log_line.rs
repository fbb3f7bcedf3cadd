//! The decision's log line, and the path redaction that keeps a token out of it.

use std::time::Instant;

use super::{AuthRequest, Decision};
use crate::decision::Reason;

/// One line per decision, allows included: support finds every request's decision by its
/// trace id. At info, an allow costs one JSON line (a few microseconds, docs/auth-proxy.md).
pub(super) fn log_decision(
    req: &AuthRequest<'_>,
    decision: &Decision,
    reason: Reason,
    started: Instant,
) {
    let verdict = reason.verdict();
    let method = req.method.map(|m| truncate(m, 16)).unwrap_or("-");
    let user_id = decision.who.as_deref().map(|v| v.sub.as_str());
    let token_id = decision.who.as_deref().map(|v| v.jti.as_str());
    // No rule matched: the (redacted) path is what an operator needs to see.
    let path = match decision.route {
        Some(_) => None,
        None => req.uri.map(redact_path),
    };
    tracing::info!(
        method,
        route = decision.route.as_deref(),
        path,
        user_id,
        token_id,
        result = verdict.label(),
        reason = reason.label(),
        code = reason.code(),
        latency_us = started.elapsed().as_micros() as u64,
        "auth decision"
    );
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The path without query or fragment, long segments (where a pasted token would sit)
/// replaced, capped in length: a log line must never carry a token.
pub fn redact_path(uri: &str) -> String {
    let end = uri.find(['?', '#']).unwrap_or(uri.len());
    let mut out = String::with_capacity(end.min(200));
    for (i, seg) in uri[..end].split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if seg.len() > 48 {
            out.push_str("[redacted]");
        } else {
            out.push_str(seg);
        }
        if out.len() > 200 {
            out.truncate(truncate(&out, 200).len());
            out.push_str("[…]");
            break;
        }
    }
    out
}
