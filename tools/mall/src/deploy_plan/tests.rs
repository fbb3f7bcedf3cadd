//! The decision on tables of changed paths, over a crate graph shaped like the workspace's.

use super::decide::{inputs, plan, DEPLOY_ORDER};
use super::graph::{self, Crate};
use crate::parts::PARTS;

fn krate(name: &str, dir: &str, bins: &[&str], deps: &[&str]) -> Crate {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
    Crate {
        name: name.into(),
        dir: dir.into(),
        bins: owned(bins),
        deps: owned(deps),
    }
}

/// The workspace's shape: every part on mall-runtime, a tool beside them.
fn workspace() -> Vec<Crate> {
    let mut crates = vec![
        krate("mall-runtime", "services/runtime", &[], &[]),
        krate(
            "auth-proxy",
            "auth-proxy",
            &["auth-proxy"],
            &["mall-runtime"],
        ),
        krate("mall", "tools/mall", &["mall"], &["mall-runtime"]),
        krate("mall-desc", "tools/desc", &["mall-desc"], &[]),
    ];
    for svc in ["user", "product", "cart", "order", "payment"] {
        let bin = format!("{svc}-service");
        crates.push(krate(
            &bin,
            &format!("services/{svc}"),
            &[&bin],
            &["mall-runtime"],
        ));
    }
    crates
}

fn planned(changed: &[&str]) -> (Vec<&'static str>, Vec<String>) {
    let changed: Vec<String> = changed.iter().map(|s| s.to_string()).collect();
    let p = plan(&changed, &workspace()).unwrap();
    (p.parts, p.manual)
}

#[test]
fn changed_paths_ship_the_parts_whose_image_they_are_in() {
    let all_rust = ["user", "product", "payment", "cart", "order", "auth-proxy"];
    let table: &[(&[&str], &[&str])] = &[
        (&[], &[]),
        (&["docs/deploy.md", "README.md"], &[]),
        (&["services/cart/src/lib.rs"], &["cart"]),
        (
            &["services/order/src/x.rs", "services/user/src/y.rs"],
            &["user", "order"],
        ),
        (&["auth-proxy/policy.toml"], &["auth-proxy"]),
        (&["services/runtime/src/serve.rs"], &all_rust),
        (&["Cargo.lock"], &all_rust),
        (&["compose/Dockerfile"], &all_rust),
        (&[".dockerignore"], &all_rust),
        (&["nginx/nginx.conf.template"], &["edge"]),
        (&["web/assets/app.js"], &["edge"]),
        (&["compose/edge/Dockerfile"], &["edge"]),
        (&["tools/edge/src/install.rs"], &["edge"]),
        (&["web/tests/storefront_test.py"], &[]),
        (&["services/product/tests/api/main.rs"], &[]),
        (&["services/payment/benches/b.rs"], &[]),
        (&["tools/mall/src/lib.rs", "tools/desc/src/lib.rs"], &[]),
        // A prefix of a crate's directory name is not the crate.
        (&["services/user-extra/x.rs", "auth-proxy-notes.md"], &[]),
        (
            &[
                "services/payment/src/a.rs",
                "web/index.html",
                "services/user/Cargo.toml",
            ],
            &["user", "payment", "edge"],
        ),
    ];
    for (changed, want) in table {
        assert_eq!(planned(changed).0, *want, "changed: {changed:?}");
    }
}

#[test]
fn files_no_image_carries_are_named_for_a_manual_step() {
    let (parts, manual) = planned(&[
        "compose/docker-compose.yml",
        "compose/mysql-init/10-service-databases.sh",
        "compose/standins/nginx/Dockerfile",
        "compose/.env.example",
        "services/cart/src/lib.rs",
        "tools/init/src/lib.rs",
    ]);
    assert_eq!(parts, ["cart"]);
    assert_eq!(
        manual,
        [
            "compose/docker-compose.yml",
            "compose/mysql-init/10-service-databases.sh",
            "compose/standins/nginx/Dockerfile",
            "tools/init/src/lib.rs",
        ]
    );
}

#[test]
fn dependencies_count_transitively_but_dev_dependencies_do_not() {
    let mut crates = workspace();
    crates.push(krate(
        "contracts",
        "services/contracts",
        &[],
        &["mall-runtime"],
    ));
    crates.push(krate("money", "services/money", &[], &[]));
    for c in crates.iter_mut().filter(|c| c.name == "order-service") {
        c.deps.push("contracts".into());
    }
    for c in crates.iter_mut().filter(|c| c.name == "contracts") {
        c.deps.push("money".into());
    }
    let changed = vec!["services/money/src/lib.rs".to_string()];
    assert_eq!(plan(&changed, &crates).unwrap().parts, ["order"]);
    let order = inputs("order", &crates).unwrap();
    assert!(order.touched_by("services/contracts/src/lib.rs"));
    assert!(!order.touched_by("services/contracts/tests/t.rs"));
}

#[test]
fn a_part_no_crate_builds_is_an_error_not_an_empty_plan() {
    let crates: Vec<Crate> = workspace()
        .into_iter()
        .filter(|c| c.name != "cart-service")
        .collect();
    let err = plan(&["README.md".to_string()], &crates).unwrap_err();
    assert!(err.contains("cart-service"), "{err}");
}

#[test]
fn the_deploy_order_names_every_part_with_slots_once_and_the_edge_last() {
    let mut ordered: Vec<&str> = DEPLOY_ORDER.to_vec();
    assert_eq!(ordered.pop(), Some("edge"));
    let mut parts: Vec<&str> = PARTS.iter().map(|p| p.name).collect();
    ordered.sort_unstable();
    parts.sort_unstable();
    assert_eq!(
        ordered, parts,
        "mall.toml's parts with slots, each once in DEPLOY_ORDER"
    );
}

#[test]
fn cargo_metadata_json_becomes_relative_dirs_bins_and_binary_deps() {
    let json = serde_json::json!({
        "workspace_root": "/src/mall",
        "packages": [{
            "name": "order-service",
            "manifest_path": "/src/mall/services/order/Cargo.toml",
            "targets": [{"name": "order_service", "kind": ["lib"]},
                        {"name": "order-service", "kind": ["bin"]}],
            "dependencies": [
                {"name": "mall-runtime", "kind": null, "path": "/src/mall/services/runtime"},
                {"name": "build-helper", "kind": "build", "path": "/src/mall/tools/bh"},
                {"name": "cart-service", "kind": "dev", "path": "/src/mall/services/cart"},
                {"name": "serde", "kind": null}
            ]
        }]
    });
    let crates = graph::parse(&json).unwrap();
    assert_eq!(
        crates,
        [krate(
            "order-service",
            "services/order",
            &["order-service"],
            &["mall-runtime", "build-helper"]
        )]
    );
}

/// This workspace's own graph: every part resolves to the crate that builds it.
#[test]
fn every_part_of_this_workspace_has_its_crate() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crates = graph::parse(&serde_json::from_slice(&out.stdout).unwrap()).unwrap();
    for part in DEPLOY_ORDER.iter().filter(|p| **p != "edge") {
        let inputs = inputs(part, &crates).unwrap();
        assert!(inputs.touched_by("services/runtime/src/lib.rs"), "{part}");
        assert!(inputs.touched_by("Cargo.lock"), "{part}");
    }
    assert!(inputs("user", &crates)
        .unwrap()
        .touched_by("services/user/src/main.rs"));
    assert!(!inputs("user", &crates)
        .unwrap()
        .touched_by("services/cart/src/lib.rs"));
}
