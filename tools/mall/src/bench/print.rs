//! The terminal tables: results per case, CPU time per request by process, and what the
//! stack logged and answered (pure: text from the summaries).

use std::fmt::Write as _;

use serde_json::Value;

fn f(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

/// Rounded to two decimals, as the tables show numbers.
pub fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Columns aligned like `column -t`, each line indented by two spaces.
fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
    }
    out
}

/// The results table, then CPU time per request by process.
pub fn tables(summary: &Value) -> String {
    let mut o = String::new();
    o.push_str("  (p50, p99: median of the rounds; other load: share of the busy CPU time that was neither\n");
    o.push_str("   the stack, the shared MySQL/Redis nor the load generator, per round: above ~10 % the round was disturbed)\n");
    let _ = writeln!(
        o,
        "  {:<26} {:>5} {:>9} {:>8} {:>8} {:>8} {:>8}  other load % (rounds)",
        "case", "conns", "req/s", "p50 ms", "p99 ms", ">=400", "sock.err"
    );
    let Some(cases) = summary.as_object() else {
        return o;
    };
    for (case, s) in cases {
        let other: Vec<String> = s["other_load_pct_rounds"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| format!("{:.0}", x.as_f64().unwrap_or(0.0)))
                    .collect()
            })
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  {:<26} {:>5} {:>9} {:>8} {:>8} {:>8} {:>8}  {}",
            case,
            s["connections"].to_string(),
            f(s, "rps").floor(),
            r2(f(s, "p50_ms")),
            r2(f(s, "p99_ms")),
            f(s, "status_ge_400"),
            f(s, "socket_errors"),
            other.join(" ")
        );
    }
    o.push_str("\n  CPU time per request, microseconds (load: the load generator; other: busy time of the rest of the host; machine: all of it)\n");
    let mut procs: Vec<String> = Vec::new();
    for s in cases.values() {
        for k in s["cpu_us_per_request"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if !["machine_busy", "load", "other"].contains(&k.as_str()) && !procs.contains(k) {
                procs.push(k.clone());
            }
        }
    }
    procs.sort();
    procs.extend(["load".to_owned(), "other".to_owned()]);
    let mut rows = vec![std::iter::once("case".to_owned())
        .chain(procs.iter().cloned())
        .chain(["machine".to_owned(), "busy %".to_owned()])
        .collect::<Vec<_>>()];
    for (case, s) in cases {
        let per = &s["cpu_us_per_request"];
        let mut row = vec![case.clone()];
        row.extend(procs.iter().map(|p| format!("{:.0}", f(per, p))));
        row.push(format!("{:.0}", f(per, "machine_busy")));
        row.push(format!("{:.0}", f(s, "machine_busy_pct")));
        rows.push(row);
    }
    o.push_str(&columns(&rows));
    o
}

/// What the stack logged and answered during the run.
pub fn observations(result: &Value) -> String {
    let mut o = String::new();
    let logs = result["log_sizes"].as_array().cloned().unwrap_or_default();
    let sizes: Vec<String> = logs
        .iter()
        .map(|l| {
            let mut s = format!(
                "{} {} lines / {:.1} MB",
                l["file"].as_str().unwrap_or(""),
                l["lines"],
                f(l, "bytes") / 1_048_576.0
            );
            if f(l, "problem_lines") > 0.0 {
                s += &format!(" ({} warn/error)", l["problem_lines"]);
            }
            s
        })
        .collect();
    let _ = writeln!(o, "  logs (whole run): {}", sizes.join("; "));
    let tally: Vec<String> = result["nginx_status_tally"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{} {} {} x{}",
                t["method"].as_str().unwrap_or(""),
                t["uri"].as_str().unwrap_or(""),
                t["status"],
                t["count"]
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "  nginx statuses (whole run, bench servers and the real one): {}",
        tally.join("; ")
    );
    for l in logs.iter().filter(|l| f(l, "problem_lines") > 0.0) {
        let _ = writeln!(
            o,
            "  last warn/error lines of {}:",
            l["file"].as_str().unwrap_or("")
        );
        for p in l["last_problems"].as_array().into_iter().flatten() {
            let _ = writeln!(o, "    {}", p.as_str().unwrap_or(""));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_tables_show_every_case_and_process() {
        let s = json!({
            "a": {"connections": 32, "rps": 1234.9, "p50_ms": 1.234, "p99_ms": 5.0, "status_ge_400": 0.0,
                  "socket_errors": 0.0, "other_load_pct_rounds": [1.2, 3.7], "machine_busy_pct": 99.6,
                  "cpu_us_per_request": {"nginx": 100.4, "load": 50.0, "other": 5.0, "machine_busy": 300.0}},
            "b-c1": {"connections": 1, "rps": 10.0, "p50_ms": 0.5, "p99_ms": 0.9, "status_ge_400": 2.0,
                  "socket_errors": 1.0, "other_load_pct_rounds": [0.0], "machine_busy_pct": 50.0,
                  "cpu_us_per_request": {"user-blue": 7.0, "machine_busy": 9.0}}
        });
        let t = tables(&s);
        assert!(t.contains("  a                             32      1234     1.23        5        0        0  1 4"), "{t}");
        assert!(t.contains("b-c1"));
        let header = t
            .lines()
            .find(|l| l.trim_start().starts_with("case ") && l.contains("machine"))
            .unwrap();
        assert_eq!(
            header.split_whitespace().collect::<Vec<_>>(),
            [
                "case",
                "nginx",
                "user-blue",
                "load",
                "other",
                "machine",
                "busy",
                "%"
            ]
        );
        assert!(t.contains("100"), "{t}");
    }

    #[test]
    fn observations_name_problem_lines() {
        let r = json!({
            "log_sizes": [{"file": "user-blue.log", "lines": 10, "bytes": 1048576, "problem_lines": 1, "last_problems": ["boom"]}],
            "nginx_status_tally": [{"method": "GET", "uri": "/x", "status": 200, "count": 5}]
        });
        let o = observations(&r);
        assert!(o.contains("user-blue.log 10 lines / 1.0 MB (1 warn/error)"));
        assert!(o.contains("GET /x 200 x5"));
        assert!(o.contains("    boom"));
    }
}
