//! The Helm chart's share of the description (deploy/helm/mall/files/, docs/kubernetes.md):
//! the parts the chart runs (parts.yaml, read by its templates with `.Files.Get`), the
//! edge's upstreams on a cluster (upstreams/<part>.conf and select.inc: each part's live
//! slot is its Service, whose selector names the slot) and the database setup the chart's
//! hook Job runs (db-setup.sh). The chart's templates hold no part, port or path of their
//! own; tools/desc/tests/desc/kubernetes.rs checks the rendered objects against mall.toml.

use std::fmt::Write;

use super::GENERATOR;
use crate::model::{Mall, Part, PartKind};

/// Where the chart keeps the generated files.
pub const DIR: &str = "deploy/helm/mall/files";

/// The grants of every service's database user: the local runtime's and compose's
/// (compose/mysql-init): data access and what the embedded, expand-only migrations need.
/// No DROP, no global privilege.
pub const GRANTS: &str = "SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, \
                          CREATE ROUTINE, ALTER ROUTINE, EXECUTE";

fn kind(part: &Part) -> &'static str {
    match part.kind {
        PartKind::Sidecar => "sidecar",
        PartKind::Service => "service",
        PartKind::StandIn => "stand-in",
    }
}

/// files/parts.yaml: every part with what a Deployment, Service and probe need.
pub fn parts(mall: &Mall) -> String {
    let mut out = format!(
        "# Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         # The parts the chart runs: templates/_parts.tpl reads this file.\n\
         port: {}\n\
         parts:\n",
        mall.compose.container_port
    );
    for p in &mall.parts {
        let _ = writeln!(
            out,
            "  - name: {}\n    ident: {}\n    kind: {}\n    binary: {}\n    slots: {}\n    \
             health: {}\n    ready: {}",
            p.name,
            p.ident(),
            kind(p),
            p.binary,
            p.slots,
            p.health,
            p.ready
        );
        if let Some(db) = &p.database {
            let _ = writeln!(
                out,
                "    database: {{name: {}, user: {}}}",
                db.name, db.user
            );
        }
        if !p.calls.is_empty() {
            let _ = writeln!(out, "    calls: [{}]", p.calls.join(", "));
        }
    }
    out
}

/// files/upstreams/<part>.conf: one upstream, the part's Service (its selector names the
/// live slot, so a switch changes no nginx file). The name resolves once, at start, to the
/// Service's cluster IP, which stays the same while the Service exists. A kept-alive
/// connection stays with the pod it was opened to whatever the selector says, so none is
/// kept longer than a second: a switch reaches every request within about a second.
pub fn upstream(mall: &Mall, part: &Part) -> String {
    format!(
        "# Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         # {name} on Kubernetes: its Service, whose selector names the live slot.\n\
         # keepalive_time: a connection stays with its pod after a switch; 1 s at most.\n\
         upstream {ident}_live {{\n\
         \x20   server {name}:{port};\n\
         \x20   keepalive 32;\n\
         \x20   keepalive_time 1s;\n\
         \x20   keepalive_timeout 60s;\n\
         }}\n",
        name = part.name,
        ident = part.ident(),
        port = mall.compose.container_port
    )
}

/// files/upstreams/select.inc: every `$<part>_up` is the part's Service.
pub fn select(mall: &Mall) -> String {
    let mut out = format!(
        "# Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         # On Kubernetes the live slot is chosen by each part's Service selector.\n"
    );
    for p in mall.slot_parts() {
        let ident = p.ident();
        let _ = writeln!(out, "set ${ident}_up {ident}_live;");
    }
    out
}

/// files/db-setup.sh: the hook Job's script (mysql client image): each service's database
/// and least-privilege user, created if missing, password set from its Secret. Only adds:
/// the schema itself is the services' embedded, expand-only migrations.
pub fn db_setup(mall: &Mall) -> String {
    let mut out = format!(
        "#!/bin/bash\n\
         # Generated from mall.toml by `{GENERATOR}`; do not edit.\n\
         # Each service's database and user (DESIGN.md \"Data\"), idempotent and additive:\n\
         # CREATE ... IF NOT EXISTS, a password from /secrets/<part>/password, grants on its\n\
         # own database only ({GRANTS}; no DROP).\n\
         set -euo pipefail\n\
         admin_password=\"$(cat /secrets/admin/password)\"\n\
         export MYSQL_PWD=\"$admin_password\"\n\
         run_sql() {{ mysql --host=\"$DB_HOST\" --port=\"$DB_PORT\" --user=\"$DB_ADMIN_USER\"; }}\n\
         password() {{\n\
         \x20   local value\n\
         \x20   value=\"$(tr -d '\\r\\n' <\"/secrets/$1/password\")\"\n\
         \x20   [[ \"$value\" =~ ^[A-Za-z0-9._~-]{{16,128}}$ ]] || {{ echo \"db-setup: the $1 password must be 16-128 characters of [A-Za-z0-9._~-]\" >&2; exit 1; }}\n\
         \x20   printf '%s' \"$value\"\n\
         }}\n"
    );
    for p in &mall.parts {
        let Some(db) = &p.database else { continue };
        let _ = write!(
            out,
            "pw=\"$(password {part})\"\n\
             run_sql <<SQL\n\
             CREATE DATABASE IF NOT EXISTS \\`{name}\\` CHARACTER SET utf8mb4;\n\
             CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '$pw';\n\
             ALTER USER '{user}'@'%' IDENTIFIED BY '$pw';\n\
             GRANT {GRANTS} ON \\`{escaped}\\`.* TO '{user}'@'%';\n\
             SQL\n\
             echo \"db-setup: {name} and {user} are there\"\n",
            part = p.name,
            name = db.name,
            user = db.user,
            escaped = db.name.replace('_', "\\\\_"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mall() -> Mall {
        crate::parse(
            r#"
            [[part]]
            name = "auth-proxy"
            kind = "sidecar"
            binary = "auth-proxy"
            port_offset = 0
            slots = true
            health = "/health"
            ready = "/ready"

            [[part]]
            name = "user"
            kind = "service"
            binary = "user-service"
            port_offset = 1
            slots = true
            database = { name = "user_db", user = "user_svc" }
            health = "/health"
            ready = "/ready"

            [compose]
            container_port = 8080
            resolver = "127.0.0.11"
            markers = "/etc/nginx/upstreams"
            "#,
        )
        .expect("a valid description")
    }

    #[test]
    fn a_part_upstream_is_its_service_on_the_container_port() {
        let m = mall();
        let text = upstream(&m, &m.parts[0]);
        assert!(text.contains("upstream auth_proxy_live {\n    server auth-proxy:8080;\n"));
    }

    #[test]
    fn select_names_the_live_upstream_of_every_slot_part() {
        let text = select(&mall());
        assert!(text.contains("set $auth_proxy_up auth_proxy_live;\n"));
        assert!(text.contains("set $user_up user_live;\n"));
    }

    #[test]
    fn db_setup_grants_no_drop_and_escapes_the_wildcard() {
        let text = db_setup(&mall());
        assert!(text.contains("CREATE DATABASE IF NOT EXISTS \\`user_db\\`"));
        assert!(text.contains("ON \\`user\\\\_db\\`.* TO 'user_svc'@'%'"));
        for line in text.lines().filter(|l| l.starts_with("GRANT")) {
            assert!(!line.contains("DROP"), "{line}");
        }
        assert!(!text.contains("auth-proxy"), "no database, no setup");
    }
}
