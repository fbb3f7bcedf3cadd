use super::*;
use clap::Parser;

fn parse(args: &[&str]) -> Result<Config, String> {
    let mut full = vec!["auth-proxy"];
    full.extend_from_slice(args);
    Args::try_parse_from(full)
        .map_err(|e| e.to_string())?
        .into_config()
}

#[test]
fn defaults_follow_the_runtime_contract() {
    let local = Config::local_defaults();
    // The clap defaults and `local_defaults` agree (unless the environment overrides).
    let overridden = [
        "LISTEN_ADDR",
        "REDIS_URL",
        "REDIS_PREFIX",
        "SLOT_COLOR",
        "SERVICE_VERSION",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
        || std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("AUTH_"));
    if !overridden {
        let c = parse(&[]).expect("defaults are valid");
        assert_eq!(
            format!("{c:?}").replace("reload_on_sighup: true", "reload_on_sighup: false"),
            format!("{local:?}")
        );
    }
    let c = local;
    assert_eq!(c.listen.to_string(), "127.0.0.1:8100");
    assert_eq!(c.jwks_urls.len(), 2);
    assert_eq!(
        (c.issuer.as_str(), c.audience.as_str()),
        ("mall", "mall-api")
    );
    assert_eq!(c.leeway_secs, 5);
    assert_eq!(c.max_token_bytes, 8192);
    assert_eq!(
        c.info.served_by(),
        format!("auth-proxy-blue@{}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn flags_are_validated() {
    assert!(parse(&["--leeway-secs", "1000"]).is_err());
    assert!(parse(&["--jwks-urls", "ftp://x/jwks"]).is_err());
    assert!(parse(&["--color", "red"]).is_err());
    assert!(parse(&["--max-token-bytes", "10"]).is_err());
    assert!(parse(&["--redis-url", "nope://"]).is_err());
    let c = parse(&["--key-files", "a.pem,b.pem", "--color", "green"]).expect("valid");
    assert_eq!(c.key_files.len(), 2);
    assert_eq!(c.info.color, "green");
}
