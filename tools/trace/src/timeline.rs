//! The trace as one table: lines in time order, each hop (nginx request, auth decision, a
//! service's request) placed where it started, errors marked, the slowest hop marked.
//!
//! The slowest hop is the auth-proxy or service hop with the most time of its own: its
//! latency minus the hops it waited on (other hops that ran inside its interval, such as
//! cart's call to product, or payment's call to the gateway). nginx lines are transport
//! around those hops and are not candidates; the edge line gives the end-to-end time.

use std::fmt::Write as _;

use crate::entry::{Entry, Kind};

/// Microseconds of slack when deciding whether one hop ran inside another: services
/// time with microseconds, but the line is written a little after the clock stopped.
const SLACK_US: i64 = 200;

/// The hop with the most time of its own: (index into the entries, own time in ms).
pub fn slowest_hop(entries: &[Entry]) -> Option<(usize, f64)> {
    let hops: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].is_hop() && matches!(entries[i].kind, Kind::Auth | Kind::Completed))
        .collect();
    let span = |i: usize| (entries[i].start_us(), entries[i].ts_us);
    let inside = |c: usize, p: usize| {
        let ((cs, ce), (ps, pe)) = (span(c), span(p));
        c != p
            && cs >= ps - SLACK_US
            && ce <= pe + SLACK_US
            && entries[c].latency_ms < entries[p].latency_ms
    };
    hops.iter()
        .map(|&p| {
            let children: Vec<usize> = hops.iter().copied().filter(|&c| inside(c, p)).collect();
            let direct = children
                .iter()
                .filter(|&&c| !children.iter().any(|&o| inside(c, o)));
            let waited: f64 = direct.map(|&c| entries[c].latency_ms.unwrap_or(0.0)).sum();
            let total = entries[p].latency_ms.unwrap_or(0.0);
            (p, (total - waited).max(0.0))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Table order: by start, then edge before auth before internal before the rest, then as
/// found.
pub fn sort_for_table(entries: &mut [Entry]) {
    let rank = |k: Kind| match k {
        Kind::Edge => 0,
        Kind::Auth => 1,
        Kind::Internal => 2,
        Kind::Completed => 3,
        Kind::Event => 4,
    };
    entries.sort_by_key(|e| (e.start_us(), rank(e.kind)));
}

/// The whole report: header, table, summary.
pub fn render(trace: &str, entries: &[Entry], wide: bool) -> String {
    let mut out = String::new();
    let Some(first) = entries.first() else {
        return out;
    };
    let t0 = entries
        .iter()
        .map(Entry::start_us)
        .min()
        .unwrap_or(first.ts_us);
    let t1 = entries.iter().map(|e| e.ts_us).max().unwrap_or(t0);
    let mut services: Vec<&str> = Vec::new();
    for e in entries {
        if !services.contains(&e.service.as_str()) {
            services.push(&e.service);
        }
    }
    let start = crate::when::format_us(t0).replace('T', " ");
    let _ = writeln!(
        out,
        "trace {trace}: {} lines from {}; starts {} UTC; {} first to last",
        entries.len(),
        printable(&services.join(", ")),
        start.get(..23).unwrap_or(&start),
        ms(((t1 - t0) as f64) / 1000.0),
    );
    let slowest = slowest_hop(entries);
    let hops = entries.iter().filter(|e| e.is_hop()).count();
    let w_service = entries
        .iter()
        .map(|e| e.service.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let w_slot = entries
        .iter()
        .map(|e| e.slot.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = writeln!(
        out,
        "   {:<12}  {:>8}  {:<w_service$}  {:<w_slot$}  {:<5}  {:>6}  {:>10}  MESSAGE",
        "TIME", "+MS", "SERVICE", "SLOT", "LEVEL", "STATUS", "LATENCY"
    );
    for (i, e) in entries.iter().enumerate() {
        let mark = if e.is_error() {
            "!!"
        } else if e.is_warning() {
            " !"
        } else {
            "  "
        };
        let time = crate::when::format_us(e.start_us());
        let time = time.get(11..23).unwrap_or(&time);
        let status = e.status.map(|s| s.to_string()).unwrap_or_default();
        let latency = e.latency_ms.map(ms).unwrap_or_default();
        let mut message = printable(&e.message);
        if !wide && message.chars().count() > 140 {
            message = message.chars().take(139).collect::<String>() + "…";
        }
        let _ = write!(
            out,
            "{mark} {time:<12}  {:>8.1}  {:<w_service$}  {:<w_slot$}  {:<5}  {status:>6}  {latency:>10}  {message}",
            ((e.start_us() - t0) as f64) / 1000.0,
            printable(&e.service),
            printable(&e.slot),
            printable(&e.level),
        );
        if let Some((s, own)) = slowest {
            if s == i && hops > 1 {
                let _ = write!(out, "   <== slowest hop ({} of its own)", ms(own));
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(entries, slowest));
    out
}

fn summary(entries: &[Entry], slowest: Option<(usize, f64)>) -> String {
    let mut out = String::new();
    if let Some(edge) = entries.iter().find(|e| e.kind == Kind::Edge) {
        let _ = writeln!(
            out,
            "answer: {} after {} at the edge",
            edge.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "?".into()),
            edge.latency_ms.map(ms).unwrap_or_else(|| "?".into())
        );
    } else {
        out.push_str("answer: no nginx line (a call between services, or the edge log is not in the search)\n");
    }
    if let Some((i, own)) = slowest {
        let e = &entries[i];
        let _ = writeln!(
            out,
            "slowest hop: {} {} {}: {} of its own, {} in all",
            printable(&e.service),
            printable(&e.slot),
            printable(&e.message),
            ms(own),
            e.latency_ms.map(ms).unwrap_or_default()
        );
    }
    let errors = entries.iter().filter(|e| e.is_error()).count();
    let warnings = entries
        .iter()
        .filter(|e| !e.is_error() && e.is_warning())
        .count();
    let _ = writeln!(
        out,
        "errors (!!, 5xx or level error): {errors}; warnings (!, 4xx or level warn): {warnings}"
    );
    out
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.1} ms")
    }
}

/// Control characters (a CR, an ESC from a hostile User-Agent) escaped, so a value can
/// neither break the table into lines nor drive the terminal.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn line(ts: &str, service: &str, msg: &str, extra: &str) -> Entry {
        let raw = format!(
            r#"{{"ts":"{ts}","level":"INFO","service":"{service}","color":"blue","trace_id":"{T}","msg":"{msg}"{extra}}}"#
        );
        Entry::parse(&raw, T).expect("entry")
    }

    /// cart (16 ms) calls product (12 ms) through nginx: cart has 4 ms of its own,
    /// product 12 ms, so product is the slowest hop.
    fn cart_calls_product() -> Vec<Entry> {
        vec![
            line("2026-11-21T00:00:00.020000Z", "cart", "request completed", r#","method":"PUT","route":"/api/cart/items/{id}","status":200,"latency_ms":16.0"#),
            line("2026-11-21T00:00:00.016000Z", "product", "request completed", r#","method":"GET","route":"/internal/products","status":200,"latency_ms":12.0"#),
            line("2026-11-21T00:00:00.003500Z", "auth-proxy", "auth decision", r#","result":"allow","reason":"token","latency_us":300"#),
            line("2026-11-21T00:00:00.005000Z", "cart", "cart line set", r#","quantity":3"#),
            Entry::parse(&format!(r#"{{"ts":"2026-11-21T00:00:00.021Z","level":"info","service":"nginx","msg":"request","trace_id":"{T}","method":"PUT","uri":"/api/cart/items/5","status":200,"request_time":0.018,"upstream_status":"200"}}"#), T).expect("nginx"),
        ]
    }

    #[test]
    fn slowest_hop_is_the_one_with_most_time_of_its_own() {
        let entries = cart_calls_product();
        let (i, own) = slowest_hop(&entries).expect("a hop");
        assert_eq!(entries[i].service, "product");
        assert!((own - 12.0).abs() < 1e-9);
    }

    #[test]
    fn table_starts_at_the_edge_and_marks_errors_and_the_slowest_hop() {
        let mut entries = cart_calls_product();
        entries.push(line(
            "2026-11-21T00:00:00.017000Z",
            "cart",
            "upstream answered \\r\\n\\u001b[31m",
            r#","level":"ERROR""#,
        ));
        sort_for_table(&mut entries);
        assert_eq!(entries[0].service, "nginx");
        assert_eq!(entries[1].service, "auth-proxy");
        let text = render(T, &entries, false);
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].starts_with(&format!(
            "trace {T}: 6 lines from nginx, auth-proxy, cart, product; starts 2026-11-21 00:00:00.003 UTC"
        )));
        assert!(rows
            .iter()
            .any(|r| r.contains("product") && r.contains("<== slowest hop")));
        assert!(rows
            .iter()
            .any(|r| r.starts_with("!!") && r.contains(r"\r\n\u{1b}[31m")));
        assert!(text.contains("answer: 200 after 18.0 ms at the edge"));
        assert!(text.contains("errors (!!, 5xx or level error): 1;"));
        // header + 6 rows + 3 summary lines: nothing split a row.
        assert_eq!(rows.len(), 1 + 1 + 6 + 3);
    }
}
