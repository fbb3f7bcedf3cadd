use super::*;

#[test]
fn parses_groups() {
    let g = parse_pids("nginx=12,13").expect("parses");
    assert_eq!(g.label, "nginx");
    assert_eq!(g.pids, vec![12, 13]);
    assert!(parse_pids("nginx=").is_err());
    assert!(parse_pids("nginx=x").is_err());
    assert!(parse_pids("12").is_err());
}

#[test]
fn measures_own_cpu_and_memory() {
    let s = Sampler::start(vec![own_group()]);
    // Burn some CPU so the counters move.
    let t = Instant::now();
    let mut x = 0u64;
    while t.elapsed() < Duration::from_millis(300) {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    assert_ne!(x, 42);
    let mut u = s.finish();
    u.per_request(1000);
    let me = &u.processes["load generator"];
    assert!(me.cpu_pct > 20.0, "{me:?}");
    assert!(me.rss_mb_max > 1.0, "{me:?}");
    assert!(u.machine_busy_pct > 0.0);
}
