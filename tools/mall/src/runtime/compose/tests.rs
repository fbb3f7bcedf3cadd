//! The compose runtime's command builders, as `--dry-run` prints them (Kamal-style: the
//! exact commands, no Docker needed).

use super::*;
use crate::shell::quote_line;

fn compose() -> Compose {
    Compose {
        root: "/r".into(),
        env_file: "/r/compose/.env".into(),
        compose: argv(&[
            "docker",
            "compose",
            "-f",
            "/r/compose/docker-compose.yml",
            "--env-file",
            "/r/compose/.env",
        ]),
        image_repo: "mall".into(),
        state_dir: "/s".into(),
        http_port: "80".into(),
        runner: Runner { dry_run: true },
    }
}

const C: &str = "docker compose -f /r/compose/docker-compose.yml --env-file /r/compose/.env";

fn product() -> Part {
    Part::parse("product").unwrap()
}

#[test]
fn the_idle_slot_is_recreated_alone_from_its_image() {
    let cmd = compose().start_cmd(
        &product(),
        Slot::Green,
        "mall/product-service:3f2c1e0",
        "3f2c1e0",
    );
    assert_eq!(
        quote_line(&cmd),
        format!("env PRODUCT_GREEN_IMAGE=mall/product-service:3f2c1e0 PRODUCT_GREEN_VERSION=3f2c1e0 {C} up -d --no-deps --no-build --force-recreate product-green")
    );
    assert_eq!(
        quote_line(&compose().stop_cmd(&product(), Slot::Blue)),
        format!("{C} stop -t 30 product-blue")
    );
}

#[test]
fn the_switch_checks_the_upstream_then_writes_or_removes_the_marker() {
    let c = compose();
    assert_eq!(
        quote_line(&c.upstream_check_cmd(&Part::parse("auth-proxy").unwrap(), Slot::Green)),
        format!("{C} exec -T nginx grep -q \\^upstream\\ auth_proxy_green\\ \\{{ /etc/nginx/upstreams/auth-proxy.conf")
    );
    assert_eq!(
        quote_line(&c.marker_cmd(&product(), Slot::Green)),
        format!(
            r#"{C} exec -T nginx sh -c echo\ \"live\ slot\ of\ \$1:\ green\"\ \>\"/etc/nginx/upstreams/.\$1.green.tmp\"\ \&\&\ mv\ -f\ \"/etc/nginx/upstreams/.\$1.green.tmp\"\ \"/etc/nginx/upstreams/\$1.green\" sh product"#
        )
    );
    assert_eq!(
        quote_line(&c.marker_cmd(&product(), Slot::Blue)),
        format!(r#"{C} exec -T nginx sh -c rm\ -f\ \"/etc/nginx/upstreams/\$1.green\" sh product"#)
    );
}

#[test]
fn a_version_is_a_tag_of_the_repository_or_of_a_full_reference() {
    let bare = resolve("mall", "product-service", "3f2c1e0").unwrap();
    assert_eq!(
        (bare.version.as_str(), bare.image.as_deref()),
        ("3f2c1e0", Some("mall/product-service:3f2c1e0"))
    );
    let full = resolve(
        "mall",
        "auth-proxy",
        "123.dkr.ecr.eu-west-1.amazonaws.com/mall/auth-proxy:9a8b7c6",
    )
    .unwrap();
    assert_eq!(full.version, "9a8b7c6");
    let port = resolve("mall", "x", "registry:5000/mall/x:v2").unwrap();
    assert_eq!(port.version, "v2");
    let digest = resolve("mall", "x", "r/x@sha256:0123456789abcdef").unwrap();
    assert_eq!(digest.version, "sha256-0123456789ab");
    assert!(resolve("mall", "x", "registry:5000/mall/x").is_err());
}

#[test]
fn the_env_file_keeps_its_lines_and_gets_the_pair() {
    let text = "# c\nPRODUCT_GREEN_IMAGE=old\nOTHER=1\n";
    let pairs = [
        ("PRODUCT_GREEN_IMAGE".to_owned(), "new".to_owned()),
        ("PRODUCT_GREEN_VERSION".to_owned(), "v2".to_owned()),
    ];
    assert_eq!(
        env_file_text(text, &pairs),
        "# c\nPRODUCT_GREEN_IMAGE=new\nOTHER=1\nPRODUCT_GREEN_VERSION=v2\n"
    );
}
