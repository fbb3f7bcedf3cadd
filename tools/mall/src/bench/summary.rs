//! Per case over all its rounds, in the order the cases first ran: requests/s (total
//! requests / total time), the median of the rounds' p50 and p99 (one disturbed round does
//! not move it), error counts, CPU time per request of each process (µs), how busy the
//! machine was, which share of that was other load (noise), and the counters summed.

use serde_json::{json, Map, Value};

fn f(v: &Value, path: &[&str]) -> f64 {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}

pub fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// A number as JSON: whole numbers as integers (counters print as 12, not 12.0).
pub fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Sums the numbers of one object field over the runs, key by key (first-seen order).
fn sum_by_key(runs: &[&Value], path: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for r in runs {
        let Some(obj) = path
            .iter()
            .try_fold(*r, |v, k| v.get(k))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (k, v) in obj {
            let sum = out.get(k).and_then(Value::as_f64).unwrap_or(0.0) + v.as_f64().unwrap_or(0.0);
            out.insert(k.clone(), number(sum));
        }
    }
    out
}

fn one_case(runs: &[&Value]) -> Value {
    let n: f64 = runs.iter().map(|r| f(r, &["requests"])).sum();
    let secs: f64 = runs.iter().map(|r| f(r, &["duration_us"])).sum::<f64>() / 1e6;
    let rounds = |path: &[&str], scale: f64| -> Vec<f64> {
        runs.iter().map(|r| f(r, path) / scale).collect()
    };
    let busy: f64 = runs
        .iter()
        .map(|r| f(r, &["during", "cpu_ms", "machine_busy"]))
        .sum();
    let total: f64 = runs
        .iter()
        .map(|r| f(r, &["during", "cpu_ms", "machine_total"]))
        .sum();
    let other: f64 = runs
        .iter()
        .map(|r| f(r, &["during", "cpu_ms", "other"]))
        .sum();
    let mut cpu = sum_by_key(runs, &["during", "cpu_ms"]);
    cpu.remove("machine_total");
    for v in cpu.values_mut() {
        *v = json!(if n > 0.0 {
            v.as_f64().unwrap_or(0.0) * 1000.0 / n
        } else {
            0.0
        });
    }
    let socket: f64 = runs
        .iter()
        .map(|r| {
            f(r, &["errors", "connect"]) + f(r, &["errors", "io"]) + f(r, &["errors", "timeout"])
        })
        .sum();
    json!({
        "url": runs[0].get("url"),
        "connections": runs[0].get("connections"),
        "threads": runs[0].get("threads"),
        "rounds": runs.len(),
        "requests": n,
        "rps": if secs > 0.0 { n / secs } else { 0.0 },
        "p50_ms": median(rounds(&["latency_us", "p50"], 1000.0)),
        "p99_ms": median(rounds(&["latency_us", "p99"], 1000.0)),
        "p50_ms_rounds": rounds(&["latency_us", "p50"], 1000.0),
        "p99_ms_rounds": rounds(&["latency_us", "p99"], 1000.0),
        "rps_rounds": rounds(&["rps"], 1.0),
        "status_ge_400": runs.iter().map(|r| f(r, &["errors", "status"])).sum::<f64>(),
        "socket_errors": socket,
        "cpu_us_per_request": cpu,
        "machine_busy_pct": if total > 0.0 { busy * 100.0 / total } else { 0.0 },
        "other_load_pct": other * 100.0 / busy.max(1.0),
        "other_load_pct_rounds": runs.iter()
            .map(|r| f(r, &["during", "cpu_ms", "other"]) * 100.0 / f(r, &["during", "cpu_ms", "machine_busy"]).max(1.0))
            .collect::<Vec<_>>(),
        "counters": sum_by_key(runs, &["during", "counters"]),
    })
}

/// The summary of every case, keyed by case in the order they first ran.
pub fn cases(runs: &[Value]) -> Value {
    let mut order: Vec<&str> = Vec::new();
    for r in runs {
        let c = r["case"].as_str().unwrap_or("");
        if !order.contains(&c) {
            order.push(c);
        }
    }
    let mut out = Map::new();
    for c in order {
        let mine: Vec<&Value> = runs.iter().filter(|r| r["case"] == c).collect();
        out.insert(c.to_owned(), one_case(&mine));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(case: &str, requests: f64, p99_us: f64, nginx_ms: f64) -> Value {
        json!({
            "case": case, "url": "u", "connections": 32, "threads": 2,
            "requests": requests, "duration_us": 1e6, "rps": requests,
            "errors": {"connect": 1, "io": 0, "timeout": 0, "status": 2},
            "latency_us": {"p50": 1000, "p99": p99_us},
            "during": {"cpu_ms": {"nginx": nginx_ms, "machine_busy": 800.0, "machine_total": 2000.0, "other": 80.0},
                       "counters": {"hits": 3.0}}
        })
    }

    #[test]
    fn cases_keep_their_order_and_take_the_median_of_rounds() {
        let runs = vec![
            run("b", 100.0, 2000.0, 100.0),
            run("a", 50.0, 1000.0, 10.0),
            run("b", 300.0, 9000.0, 300.0),
            run("b", 200.0, 3000.0, 200.0),
        ];
        let s = cases(&runs);
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["b", "a"]);
        let b = &s["b"];
        assert_eq!(b["rounds"], json!(3));
        assert_eq!(b["rps"], json!(200.0), "total requests / total time");
        assert_eq!(b["p99_ms"], json!(3.0), "the median round");
        assert_eq!(b["socket_errors"], json!(3.0));
        assert_eq!(b["status_ge_400"], json!(6.0));
        assert_eq!(b["cpu_us_per_request"]["nginx"], json!(1000.0));
        assert!(b["cpu_us_per_request"].get("machine_total").is_none());
        assert_eq!(b["machine_busy_pct"], json!(40.0));
        assert_eq!(b["other_load_pct"], json!(10.0));
        assert_eq!(b["counters"]["hits"], json!(9));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_middle_mean() {
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
