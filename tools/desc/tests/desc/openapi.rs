use std::collections::{BTreeMap, BTreeSet};

use crate::root;

/// The operations of an OpenAPI path item (its other keys are parameters, summaries...).
const OPERATIONS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(serde::Deserialize)]
struct Document {
    paths: BTreeMap<String, BTreeMap<String, serde_norway::Value>>,
}

#[test]
fn openapi_paths_and_methods_are_the_described_routes() {
    let text = std::fs::read_to_string(root().join("docs/openapi.yaml"))
        .expect("docs/openapi.yaml is readable");
    let doc: Document = serde_norway::from_str(&text).expect("docs/openapi.yaml parses");
    let documented: BTreeSet<(String, String)> = doc
        .paths
        .iter()
        .flat_map(|(path, item)| {
            item.keys()
                .filter(|k| OPERATIONS.contains(&k.as_str()))
                .map(move |k| (k.to_uppercase(), path.clone()))
        })
        .collect();
    let mall = mall_desc::load(&root()).expect("mall.toml is valid");
    let described: BTreeSet<(String, String)> = mall
        .routes
        .iter()
        .flat_map(|r| r.methods.iter().map(|m| (m.clone(), r.path.clone())))
        .collect();
    let missing: Vec<_> = described.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&described).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/openapi.yaml and mall.toml disagree:\n  \
         in mall.toml, not in openapi.yaml: {missing:?}\n  \
         in openapi.yaml, not in mall.toml: {extra:?}"
    );
}
