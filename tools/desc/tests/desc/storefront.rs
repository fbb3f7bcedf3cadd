//! The storefront (web/assets/js) spells the API's order statuses and error codes as
//! strings: each must be a name docs/openapi.yaml defines (`OrderStatus`, `ErrorCode`), and
//! the admin's status filter offers exactly the order statuses. A status or code renamed in
//! the contract fails here, not in a shopper's browser.

use std::collections::{BTreeMap, BTreeSet};

use crate::root;

#[derive(serde::Deserialize)]
struct Document {
    components: Components,
}

#[derive(serde::Deserialize)]
struct Components {
    schemas: BTreeMap<String, serde_norway::Value>,
}

fn schema_enum(doc: &Document, name: &str) -> BTreeSet<String> {
    doc.components.schemas[name]["enum"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{name} has an enum"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn contract() -> Document {
    let text = std::fs::read_to_string(root().join("docs/openapi.yaml")).expect("readable");
    serde_norway::from_str(&text).expect("docs/openapi.yaml parses")
}

fn js(name: &str) -> String {
    std::fs::read_to_string(root().join("web/assets/js").join(name)).expect("readable")
}

/// The quoted names after each `marker` in `text` (`status === 'paid'` → `paid`).
fn quoted_after(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = text[i + marker.len()..].strip_prefix('\'')?;
            Some(rest[..rest.find('\'')?].to_owned())
        })
        .collect()
}

#[test]
fn order_statuses_in_the_storefront_are_the_contracts() {
    let statuses = schema_enum(&contract(), "OrderStatus");
    let used = quoted_after(&js("orders.js"), "o.status === ");
    assert!(!used.is_empty(), "orders.js compares no status");
    for s in &used {
        assert!(
            statuses.contains(s),
            "orders.js uses {s:?}, not in {statuses:?}"
        );
    }
    let admin = js("admin.js");
    let list = admin
        .split_once("['pending'")
        .map(|(_, rest)| format!("'pending'{}", &rest[..rest.find(']').expect("]")]))
        .expect("admin.js lists the statuses");
    let offered: BTreeSet<String> = list
        .split(',')
        .map(|s| s.trim().trim_matches('\'').to_owned())
        .collect();
    assert_eq!(offered, statuses, "admin.js's status filter");
}

#[test]
fn error_codes_in_the_storefront_are_the_contracts() {
    let codes = schema_enum(&contract(), "ErrorCode");
    let errors = js("errors.js");
    let words = &errors[errors.find("const WORDS = {").expect("WORDS")..];
    let words = &words[..words.find("\n};").expect("end of WORDS")];
    let named: Vec<&str> = words
        .lines()
        .skip(1)
        .filter_map(|l| l.trim().split_once(':').map(|(k, _)| k))
        .collect();
    assert!(named.len() > 10, "{named:?}");
    // `network`: the browser's own failure to reach the shop, never an API answer.
    for code in named.iter().filter(|c| **c != "network") {
        assert!(
            codes.contains(*code),
            "errors.js words {code:?}, not an ErrorCode"
        );
    }
    let api = js("api.js");
    for code in quoted_after(&api, "e.code === ") {
        assert!(
            codes.contains(&code),
            "api.js compares {code:?}, not an ErrorCode"
        );
    }
}
