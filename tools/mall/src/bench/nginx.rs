//! The bench-only nginx config: upstreams and server blocks that include the real snippets
//! verbatim (pure text, installed by `Bench::nginx_extra`).

/// An upstream with one server (the format of stack::nginx::slot_upstreams).
pub fn upstream(name: &str, addr: &str, slot: &str) -> String {
    format!(
        "# Live slot of {name}: {slot}. Written by the mall's scripts; do not edit by hand.\n\
         upstream {name} {{\n    server {addr};\n    keepalive 32;\n    keepalive_timeout 60s;\n}}\n"
    )
}

/// A bench-only server on 127.0.0.1:<port> with the standard error handling and its own
/// copy of the auth subrequest location, then `locations`, then a 404 for the rest.
pub fn server_block(port: u16, comment: &str, locations: &[String]) -> String {
    format!(
        "# {comment}
server {{
    listen 127.0.0.1:{port};
    server_name _;

    include snippets/response-headers.conf;
    include snippets/errors.conf;
    error_page 500 @e500;
    # $auth_proxy_up and the other live-slot variables the auth subrequest uses.
    include upstreams/select.inc;

    location = /_auth {{
        internal;
        include snippets/auth-subrequest.conf;
    }}
{}
    location / {{ return 404; }}

    include snippets/error-locations.conf;
}}
",
        locations.join("\n")
    )
}

/// The auth benchmark's server: (a) the real /api/ wiring, (b) the same upstream request
/// without auth_request, the identity nginx would have copied from auth-proxy fixed.
pub fn auth_conf(
    port: u16,
    user_addr: &str,
    upstream_uri: &str,
    user_id: &str,
    token_exp: i64,
) -> String {
    let locations: Vec<String> = [
        "    # (a) the wiring of the real /api/ locations, verbatim (snippets/api.conf): the",
        "    #     subrequest carries X-Original-URI /api/users/me, an 'authenticated' route.",
        "    location = /api/users/me {",
        "        include snippets/api.conf;",
        &format!("        proxy_pass http://bench_user{upstream_uri};"),
        "    }",
        "    # (b) the same upstream request without auth_request; the identity nginx would",
        "    #     have copied from auth-proxy's answer, fixed.",
        "    location = /noauth/api/users/me {",
        &format!("        set $auth_user_id {user_id};"),
        "        set $auth_user_roles customer;",
        "        set $auth_token_id bench;",
        &format!("        set $auth_token_expires {token_exp};"),
        "        include snippets/proxy.conf;",
        "        include snippets/errors.conf;",
        &format!("        proxy_pass http://bench_user{upstream_uri};"),
        "    }",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    upstream("bench_user", user_addr, "blue")
        + &server_block(
            port,
            "Bench-only (mall bench auth): never part of a normal run.",
            &locations,
        )
}

/// The catalog benchmark's two servers: :port1 -> the blue slot (cache on), :port2 -> the
/// green slot (cache off), with the real server's product locations verbatim.
pub fn catalog_conf(ports: (u16, u16), blue_addr: &str, green_addr: &str) -> String {
    let mut out = upstream("bench_product_blue", blue_addr, "blue")
        + &upstream("bench_product_green", green_addr, "green");
    for (slot, port) in [("blue", ports.0), ("green", ports.1)] {
        let locations = vec![
            format!("    location = /api/products   {{ include snippets/api.conf; proxy_pass http://bench_product_{slot}; }}"),
            format!("    location ^~ /api/products/ {{ include snippets/api.conf; proxy_pass http://bench_product_{slot}; }}"),
        ];
        out += &server_block(
            port,
            &format!("Bench-only (mall bench catalog): the product {slot} slot."),
            &locations,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_server_wires_both_locations_to_one_upstream() {
        let c = auth_conf(9052, "127.0.0.1:9001", "/health", "42", 1_700_000_000);
        assert!(c.starts_with("# Live slot of bench_user: blue."));
        assert!(c.contains("upstream bench_user {\n    server 127.0.0.1:9001;"));
        assert!(c.contains("listen 127.0.0.1:9052;"));
        assert_eq!(c.matches("proxy_pass http://bench_user/health;").count(), 2);
        assert!(c.contains("set $auth_user_id 42;"));
        assert!(c.contains("include upstreams/select.inc;"));
        assert_eq!(c.matches('{').count(), c.matches('}').count());
    }

    #[test]
    fn the_catalog_servers_differ_only_in_their_slot() {
        let c = catalog_conf((9052, 9053), "127.0.0.1:9002", "127.0.0.1:9102");
        assert!(c.contains("listen 127.0.0.1:9052;") && c.contains("listen 127.0.0.1:9053;"));
        assert_eq!(
            c.matches("proxy_pass http://bench_product_blue;").count(),
            2
        );
        assert_eq!(
            c.matches("proxy_pass http://bench_product_green;").count(),
            2
        );
        assert_eq!(c.matches('{').count(), c.matches('}').count());
    }
}
