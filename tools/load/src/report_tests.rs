use std::time::Duration;

use super::*;
use crate::run::Spec;
use crate::stats::Stats;

fn step(rate: f64, p99_ms: u64, errors: bool) -> RunResult {
    let mut stats = Stats::default();
    for i in 0..100u64 {
        let ms = if i == 99 {
            p99_ms * 2
        } else {
            1 + i * p99_ms / 100
        };
        stats.record(Route::Detail, Duration::from_millis(ms), Some(200));
    }
    if errors {
        stats.record(Route::Checkout, Duration::from_millis(3), Some(502));
    }
    let summary = stats.summary(1.0);
    let errors = summary.errors();
    RunResult {
        spec: Spec {
            mode: Mode::Open,
            rate: Some(rate),
            duration_s: 1.0,
            warmup_s: 0.0,
            connections: 8,
        },
        summary,
        usage: crate::procs::Sampler::start(vec![]).finish(),
        dropped: 0,
        unfinished: 0,
        connections_opened: 8,
        errors,
    }
}

#[test]
fn plot_has_the_series_limit_and_held_rate() {
    let steps = vec![
        step(1000.0, 5, false),
        step(1500.0, 20, false),
        step(2000.0, 90, true),
    ];
    let path = std::env::temp_dir().join(format!("mall-load-plot-{}.svg", std::process::id()));
    plot(&path, &steps, 50.0, Some(1500.0), "test sweep").expect("plots");
    let svg = std::fs::read_to_string(&path).expect("written");
    let _ = std::fs::remove_file(&path);
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(100)]);
    for text in [
        "test sweep",
        "p50",
        "p90",
        "p99",
        "p99 limit 50 ms",
        "highest rate held: 1,500 req/s",
    ] {
        assert!(svg.contains(text), "missing {text:?}");
    }
}

#[test]
fn table_lists_routes_errors_and_processes() {
    let r = step(2000.0, 90, true);
    let t = table(&r, 10);
    assert!(t.contains("open loop: 2,000 req/s offered"), "{t}");
    assert!(t.contains("detail") && t.contains("checkout"), "{t}");
    assert!(t.contains("errors by status: checkout 502: 1"), "{t}");
    assert_eq!(thousands(1234567.0), "1,234,567");
    assert_eq!(thousands(12.0), "12");
}
