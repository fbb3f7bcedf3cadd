use crate::root;

/// The part's port without a LISTEN_ADDR: 8100 + its offset, as the config's default says.
#[test]
fn each_parts_default_port_is_8100_plus_its_offset() {
    let mall = mall_desc::load(&root()).expect("mall.toml is valid");
    for part in &mall.parts {
        let config = match part.name.as_str() {
            "auth-proxy" => root().join("auth-proxy/src/config.rs"),
            name => root().join(format!("services/{name}/src/config.rs")),
        };
        let text = std::fs::read_to_string(&config).expect("the part's config.rs is readable");
        let port = 8100 + part.port_offset;
        let says = text.contains(&format!("DEFAULT_PORT: u16 = {port};"))
            || text.contains(&format!("default_value = \"127.0.0.1:{port}\""));
        assert!(says, "{} does not default to port {port}", config.display());
    }
}
