//! The compose stack's env file: what `up` writes and keeps.

use super::*;

#[test]
fn deployed_images_are_kept_and_the_rest_chosen() {
    let env = |_: &str| None;
    let cfg = StackConfig::from_env(std::path::Path::new("/r"), &env).unwrap();
    let images = host::images::Images {
        nginx: "n".into(),
        ..Default::default()
    };
    let current = "PRODUCT_GREEN_IMAGE=mall/product-service:v2\nEDGE_IMAGE=mall/edge:v3\nOWN=1\n";
    let pairs = env_pairs(&cfg, &images, "dev", current);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("PRODUCT_GREEN_IMAGE"), None);
    assert_eq!(get("EDGE_IMAGE"), None);
    assert_eq!(get("PRODUCT_BLUE_IMAGE"), Some("mall/product-service:dev"));
    assert_eq!(get("AUTH_PROXY_GREEN_IMAGE"), Some("mall/auth-proxy:dev"));
    assert_eq!(get("NGINX_IMAGE"), Some("n"));
    assert_eq!(get("MALL_HTTP_PORT"), Some("8080"));
    let text = env_file_text(current, &pairs);
    assert!(text.starts_with(
        "PRODUCT_GREEN_IMAGE=mall/product-service:v2\nEDGE_IMAGE=mall/edge:v3\nOWN=1\n"
    ));
}
