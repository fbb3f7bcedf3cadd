use serde_json::{json, Map};

use super::*;

#[test]
fn a_record_splits_the_machine_into_processes_and_other_load() {
    let load = json!({
        "url": "http://127.0.0.1:1/x", "connections": 32, "threads": 2,
        "requests": 1000, "duration_us": 2_000_000, "body_bytes": 5,
        "errors": {"connect": 0, "io": 1, "timeout": 0, "status": 3},
        "latency_us": {"p50": 1500, "p99": 4000},
        "usage": {
            "processes": {"nginx": {"cpu_seconds": 0.5}, "load generator": {"cpu_seconds": 0.25}},
            "machine_busy_seconds": 1.0, "machine_total_seconds": 4.0
        }
    });
    let mut counters = Map::new();
    counters.insert("hits".into(), json!(7.0));
    let r = record("a", 1, &load, counters, "1.0 1.0 1.0");
    assert_eq!(r["rps"], json!(500.0));
    let cpu = &r["during"]["cpu_ms"];
    assert_eq!(cpu["nginx"], json!(500.0));
    assert_eq!(cpu["load"], json!(250.0), "the generator is named load");
    assert_eq!(cpu["other"], json!(250.0));
    assert_eq!(cpu["machine_total"], json!(4000.0));
    let per = &r["during"]["cpu_us_per_request"];
    assert_eq!(per["nginx"], json!(500.0));
    assert!(per.get("machine_total").is_none());
    assert_eq!(r["during"]["counters"]["hits"], json!(7.0));
    assert_eq!(
        run_line(&r),
        "500 req/s, p50 1.5 ms, p99 4 ms, >=400: 3, socket errors: 1"
    );
}
