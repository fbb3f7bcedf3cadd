use super::*;

#[test]
fn metrics_are_summed_over_label_sets() {
    let text = "# HELP x\n# TYPE auth_decisions_total counter\n\
                auth_decisions_total{result=\"allow\"} 10\n\
                auth_decisions_total{result=\"deny\"} 5\n\
                auth_decisions_total_other 99\n\
                catalog_cache_hits_total 3\n";
    assert_eq!(metric_sum(text, "auth_decisions_total"), 15.0);
    assert_eq!(metric_sum(text, "catalog_cache_hits_total"), 3.0);
    assert_eq!(metric_sum(text, "missing_total"), 0.0);
}

#[test]
fn counters_are_differences() {
    let mut a = Map::new();
    let mut b = Map::new();
    a.insert("x".into(), json!(5.0));
    b.insert("x".into(), json!(12.0));
    b.insert("y".into(), json!(1.0));
    let d = Counters::difference(&a, &b);
    assert_eq!(d["x"], json!(7));
    assert_eq!(d["y"], json!(1));
}

#[test]
fn access_lines_fold_ids_and_keep_queries() {
    let line = r#"{"time":"t","method":"GET","uri":"/api/products/17","status":200,"x":1}"#;
    assert_eq!(
        access_key(line),
        Some(("GET".into(), "/api/products/{id}".into(), 200))
    );
    let q = r#"{"method":"GET","uri":"/api/products?category=Kitchen&page=2","status":304}"#;
    assert_eq!(
        access_key(q).map(|k| k.1),
        Some("/api/products?category=Kitchen&page=2".into())
    );
    assert_eq!(access_key("not json"), None);
}

#[test]
fn problems_depend_on_the_log() {
    assert!(problem("x/nginx/error.log", "2026/01/01 [warn] 1#1: y"));
    assert!(!problem("x/nginx/error.log", "2026/01/01 [notice] 1#1: y"));
    assert!(problem("x/nginx/access.log", r#"{"status":502}"#));
    assert!(!problem("x/nginx/access.log", r#"{"status":200}"#));
    assert!(problem("x/user-blue.log", r#"{"level":"WARN","msg":"m"}"#));
    assert!(!problem("x/user-blue.log", r#"{"level":"INFO","msg":"m"}"#));
}
