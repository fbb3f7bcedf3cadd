use clap::Parser;

use super::*;
use crate::args::Args;

fn args(extra: &[&str]) -> Args {
    let mut v = vec!["mall-load", "--url", "http://127.0.0.1:9/api/products?x=1"];
    v.extend_from_slice(extra);
    Args::parse_from(v)
}

#[test]
fn the_url_names_the_default_path() {
    assert_eq!(
        url_path("http://127.0.0.1:9/api/products?x=1"),
        "/api/products?x=1"
    );
    assert_eq!(url_path("http://127.0.0.1:9"), "/");
    assert_eq!(url_path("http://127.0.0.1:9?q=a"), "/?q=a");
    let r = Requests::new(&args(&["--shape", "get"])).unwrap();
    assert_eq!(r.call(0).path, "/api/products?x=1");
    assert!(r.call(0).auth.is_none());
}

#[test]
fn get_cycles_paths_and_authorization_values() {
    let dir = std::env::temp_dir().join(format!("mall-load-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (paths, auths) = (dir.join("paths"), dir.join("auths"));
    std::fs::write(&paths, "/a\n\n/b\n/c\n").unwrap();
    std::fs::write(&auths, "Bearer x\nBearer y\n").unwrap();
    let r = Requests::new(&args(&[
        "--shape",
        "get",
        "--path-file",
        paths.to_str().unwrap(),
        "--auth-file",
        auths.to_str().unwrap(),
    ]))
    .unwrap();
    let calls: Vec<(String, String)> = (0..4)
        .map(|n| {
            let c = r.call(n);
            (c.path, c.auth.unwrap().to_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(calls[0], ("/a".into(), "Bearer x".into()));
    assert_eq!(calls[1], ("/b".into(), "Bearer y".into()));
    assert_eq!(calls[3], ("/a".into(), "Bearer y".into()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn checkout_declines_one_in_n_with_a_new_key_each() {
    let dir = std::env::temp_dir().join(format!("mall-load-co-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let auths = dir.join("auths");
    std::fs::write(&auths, "Bearer a\n").unwrap();
    let a = args(&[
        "--shape",
        "checkout",
        "--product-id",
        "7",
        "--auth-file",
        auths.to_str().unwrap(),
    ]);
    let r = Requests::new(&a).unwrap();
    let calls: Vec<_> = (0..20).map(|n| r.call(n)).collect();
    let declined = calls
        .iter()
        .filter(|c| String::from_utf8_lossy(c.body.as_ref().unwrap()).contains("tok_declined"))
        .count();
    assert_eq!(declined, 2, "1 in 10");
    assert_eq!(calls[0].method, http::Method::POST);
    assert_eq!(calls[0].path, "/api/orders");
    assert!(String::from_utf8_lossy(calls[0].body.as_ref().unwrap())
        .contains("{\"product_id\":7,\"quantity\":1}"));
    assert_ne!(calls[0].idempotency_key, calls[1].idempotency_key);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn checkout_needs_a_product_and_shoppers() {
    assert!(Requests::new(&args(&["--shape", "checkout"])).is_err());
    assert!(Requests::new(&args(&["--shape", "checkout", "--product-id", "1"])).is_err());
}
