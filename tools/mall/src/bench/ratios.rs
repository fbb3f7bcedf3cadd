//! The comparisons each benchmark reports, from its case summaries (pure).

use serde_json::{json, Value};

fn f(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn per_round(a: &Value, b: &Value, k: &str, op: fn(f64, f64) -> f64) -> Vec<f64> {
    let (xs, ys) = (a[k].as_array(), b[k].as_array());
    match (xs, ys) {
        (Some(xs), Some(ys)) => xs
            .iter()
            .zip(ys)
            .map(|(x, y)| op(x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0)))
            .collect(),
        _ => vec![],
    }
}

fn div(x: f64, y: f64) -> f64 {
    if y == 0.0 {
        0.0
    } else {
        x / y
    }
}

/// Authenticated `a` against unauthenticated `b`.
fn auth_pair(a: &Value, b: &Value) -> Value {
    json!({
        "throughput_ratio": div(f(a, "rps"), f(b, "rps")),
        "throughput_ratio_rounds": per_round(a, b, "rps_rounds", div),
        "added_p50_ms": f(a, "p50_ms") - f(b, "p50_ms"),
        "added_p99_ms": f(a, "p99_ms") - f(b, "p99_ms"),
        "added_p99_ms_rounds": per_round(a, b, "p99_ms_rounds", |x, y| x - y),
    })
}

/// The auth benchmark against its targets (ratio >= 0.85, added p99 <= 1 ms, RSS < 30 MB).
pub fn auth(s: &Value, lc: u32, hwm_kb: f64) -> Value {
    let (a, b, c) = (
        &s["auth-authenticated"],
        &s["auth-unauthenticated"],
        &s["auth-401-flood"],
    );
    let (la, lb) = (
        s.get(format!("auth-authenticated-c{lc}")),
        s.get(format!("auth-unauthenticated-c{lc}")),
    );
    let unloaded = match (la, lb) {
        (Some(la), Some(lb)) => auth_pair(la, lb),
        _ => Value::Null,
    };
    let added_unloaded = unloaded
        .get("added_p99_ms")
        .and_then(Value::as_f64)
        .map(|x| x <= 1.0);
    json!({
        "saturated": auth_pair(a, b),
        "unloaded": unloaded,
        "throughput_401_flood_over_unauthenticated": div(f(c, "rps"), f(b, "rps")),
        "targets": {
            "throughput_ratio_min": 0.85, "added_p99_ms_max": 1.0, "sidecar_rss_mb_max": 30,
            "throughput_met": div(f(a, "rps"), f(b, "rps")) >= 0.85,
            "added_p99_met_saturated": f(a, "p99_ms") - f(b, "p99_ms") <= 1.0,
            "added_p99_met_unloaded": added_unloaded,
            "rss_met": hwm_kb < 30.0 * 1024.0,
        }
    })
}

/// The edge's cost for a signed-in shopper: the same product detail through the public
/// listener with a token (`edge-signed-in`) against without (`edge-anonymous`); target
/// >= 0.95.
pub fn edge(s: &Value) -> Value {
    let (Some(a), Some(b)) = (s.get("edge-signed-in"), s.get("edge-anonymous")) else {
        return Value::Null;
    };
    let ratio = div(f(a, "rps"), f(b, "rps"));
    json!({
        "signed_in_over_anonymous": ratio,
        "throughput_ratio_rounds": per_round(a, b, "rps_rounds", div),
        "p99_ms_signed_in": f(a, "p99_ms"), "p99_ms_anonymous": f(b, "p99_ms"),
        "target_min": 0.95, "met": ratio >= 0.95,
    })
}

/// Cached `c` against uncached `u`, when both ran.
fn catalog_pair(c: Option<&Value>, u: Option<&Value>) -> Value {
    let (Some(c), Some(u)) = (c, u) else {
        return Value::Null;
    };
    json!({
        "throughput_cached_over_uncached": div(f(c, "rps"), f(u, "rps")),
        "throughput_ratio_rounds": per_round(c, u, "rps_rounds", div),
        "p50_ms_cached": f(c, "p50_ms"), "p50_ms_uncached": f(u, "p50_ms"),
        "p99_ms_cached": f(c, "p99_ms"), "p99_ms_uncached": f(u, "p99_ms"),
        "p99_uncached_over_cached": div(f(u, "p99_ms"), f(c, "p99_ms")),
    })
}

pub fn catalog(s: &Value, lc: u32) -> Value {
    let g = |k: String| s.get(k);
    json!({
        "detail_saturated": catalog_pair(g("detail-cached".into()), g("detail-uncached".into())),
        "list_saturated": catalog_pair(g("list-cached".into()), g("list-uncached".into())),
        "detail_unloaded": catalog_pair(g(format!("detail-cached-c{lc}")), g(format!("detail-uncached-c{lc}"))),
        "list_unloaded": catalog_pair(g(format!("list-cached-c{lc}")), g(format!("list-uncached-c{lc}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(rps: f64, p99: f64) -> Value {
        json!({"rps": rps, "p50_ms": p99 / 2.0, "p99_ms": p99, "rps_rounds": [rps, rps], "p99_ms_rounds": [p99, p99]})
    }

    #[test]
    fn the_edge_ratio_is_signed_in_over_anonymous() {
        let s = json!({"edge-signed-in": case(940.0, 4.0), "edge-anonymous": case(1000.0, 3.0)});
        let r = edge(&s);
        assert_eq!(r["signed_in_over_anonymous"], json!(0.94));
        assert_eq!(r["met"], json!(false));
        assert_eq!(
            edge(&json!({"edge-anonymous": case(1.0, 1.0)})),
            Value::Null
        );
    }

    #[test]
    fn auth_targets_are_judged_from_the_cases() {
        let s = json!({
            "auth-authenticated": case(900.0, 3.5),
            "auth-unauthenticated": case(1000.0, 3.0),
            "auth-401-flood": case(500.0, 9.0),
            "auth-authenticated-c1": case(100.0, 2.5),
            "auth-unauthenticated-c1": case(120.0, 1.0),
        });
        let r = auth(&s, 1, 20.0 * 1024.0);
        assert_eq!(r["saturated"]["throughput_ratio"], json!(0.9));
        assert_eq!(r["saturated"]["throughput_ratio_rounds"], json!([0.9, 0.9]));
        assert_eq!(r["throughput_401_flood_over_unauthenticated"], json!(0.5));
        let t = &r["targets"];
        assert_eq!(t["throughput_met"], json!(true));
        assert_eq!(t["added_p99_met_saturated"], json!(true));
        assert_eq!(t["added_p99_met_unloaded"], json!(false), "1.5 ms added");
        assert_eq!(t["rss_met"], json!(true));
        assert_eq!(
            auth(&s, 0, 0.0)["targets"]["added_p99_met_unloaded"],
            Value::Null
        );
    }

    #[test]
    fn catalog_pairs_only_what_ran() {
        let s = json!({"detail-cached": case(2000.0, 2.0), "detail-uncached": case(500.0, 8.0)});
        let r = catalog(&s, 1);
        assert_eq!(
            r["detail_saturated"]["throughput_cached_over_uncached"],
            json!(4.0)
        );
        assert_eq!(
            r["detail_saturated"]["p99_uncached_over_cached"],
            json!(4.0)
        );
        assert_eq!(r["list_saturated"], Value::Null);
        assert_eq!(r["detail_unloaded"], Value::Null);
    }
}
