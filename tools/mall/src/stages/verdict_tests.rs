use super::*;

fn load(
    sent: u64,
    answered: u64,
    non_2xx: u64,
    errors: [u64; 4],
    served: &[(&str, u64)],
) -> LoadCounts {
    LoadCounts {
        sent,
        answered,
        non_2xx,
        errors,
        served_by: served.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        ..LoadCounts::default()
    }
}

fn wants() -> Vec<String> {
    ["product-blue@v1", "product-green@v2", "cart-blue@"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

const SERVED: &[(&str, u64)] = &[
    ("product-blue@v1", 10),
    ("product-green@v2", 5),
    ("cart-blue@v1", 3),
];

#[test]
fn a_clean_run_passes() {
    let close = load(6000, 6000, 0, [0; 4], SERVED);
    let keep = load(900, 900, 0, [0; 4], &[]);
    assert!(zero_downtime(&close, &keep, 0, 5000, &wants()).is_empty());
}

#[test]
fn every_kind_of_failure_is_counted() {
    let keep = load(900, 900, 0, [0; 4], &[]);
    let cases = [
        (load(4000, 4000, 0, [0; 4], SERVED), 0, "only 4000 requests"),
        (
            load(6000, 5999, 0, [0, 1, 0, 0], SERVED),
            0,
            "never answered",
        ),
        (load(6000, 6000, 1, [0; 4], SERVED), 0, "1 non-2xx"),
        (
            load(6000, 6000, 0, [0; 4], SERVED),
            2,
            "nginx logged 2 non-200",
        ),
        (
            load(6000, 6000, 0, [1, 0, 0, 0], SERVED),
            0,
            "1 socket errors on new connections",
        ),
        (
            load(6000, 6000, 0, [0; 4], &SERVED[..2]),
            0,
            "no load answer came from cart-blue@",
        ),
    ];
    for (close, nginx_bad, want) in cases {
        let problems = zero_downtime(&close, &keep, nginx_bad, 5000, &wants());
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:?}"
        );
    }
}

#[test]
fn a_keepalive_reset_close_or_timeout_fails_the_run() {
    let close = load(6000, 6000, 0, [0; 4], SERVED);
    for errors in [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] {
        let keep = load(900, 899, 0, errors, &[]);
        let problems = zero_downtime(&close, &keep, 0, 5000, &wants());
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}

#[test]
fn the_edge_load_must_be_all_2xx() {
    assert!(edge_load(&load(300, 300, 0, [0; 4], &[])).is_none());
    assert!(edge_load(&load(0, 0, 0, [0; 4], &[])).is_some());
    assert!(edge_load(&load(300, 300, 1, [0; 4], &[])).is_some());
    assert!(edge_load(&load(300, 299, 0, [0, 0, 0, 1], &[])).is_some());
}

#[test]
fn mall_loads_summary_is_read() {
    let text = r#"{"mode":"close","sent":7,"answered":6,"non_2xx":1,"by_status":{"200":5,"503":1},
        "served_by":{"product-blue@v1":6},"errors":{"connect":0,"read":1,"write":0,"timeout":0},
        "connections_opened":7,"duration_s":1.5,"latency_us":{"p50":1500,"p99":9000,"max":12000},
        "last_error":"reset"}"#;
    let c = LoadCounts::parse(text).unwrap();
    assert_eq!(
        (c.sent, c.answered, c.non_2xx, c.socket_errors()),
        (7, 6, 1, 1)
    );
    assert_eq!(c.by_status.get("503"), Some(&1));
    assert!(c.summary().contains("p50 1.5 ms") && c.summary().contains("last error: reset"));
    assert!(LoadCounts::parse("{}").is_err());
}

#[test]
fn the_audit_log_lists_finished_actions() {
    let log = [
        r#"{"action":"deploy","part":"product","to_version":"v2","outcome":"started"}"#,
        r#"{"action":"deploy","part":"product","to_version":"v2","outcome":"ok"}"#,
        r#"{"action":"deploy","part":"product","to_version":"never-ready","outcome":"failed","stage":"ready"}"#,
    ]
    .join("\n");
    assert_eq!(
        audit_lines(&log),
        [
            "deploy product v2 ok -",
            "deploy product never-ready failed ready"
        ]
    );
    assert_eq!(expected_audit("v1")[1], "rollback product v1 ok -");
}
