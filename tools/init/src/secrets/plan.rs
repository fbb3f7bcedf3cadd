//! What the init writes and what it says, from the environment alone: pure, so every rule
//! (placeholders refused, production warnings, what is announced) is unit-tested.

/// The services with a database and a password of their own: mall.toml's parts with a
/// `database` (a test compares them).
pub const SERVICES: [&str; 5] = ["user", "product", "cart", "order", "payment"];
/// The mall's services run as this uid and gid (compose/Dockerfile).
pub const SERVICE_UID: u32 = 10001;
/// Grafana's image runs as this uid (group root).
pub const GRAFANA_UID: u32 = 472;
/// The card gateway, unless GATEWAY_URL says otherwise (compose/docker-compose.yml).
const SIMULATOR_URL: &str = "http://gateway-sim:8080";

/// One secret file, relative to the secrets directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub file: String,
    /// The environment variable that may give its value (compose/.env).
    pub var: String,
    /// Its value, when given and not empty.
    pub given: Option<String>,
    /// Its name in the "generated:" line; none for one not announced.
    pub label: Option<String>,
    /// A copy for the database's init (mysql/<svc>-db-password).
    pub copy_to: Option<String>,
}

/// A line on stderr: plain, or the production warning that stands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Say(String),
    Loud(String),
}

pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn given(env: Env<'_>, var: &str) -> Option<String> {
    env(var).filter(|v| !v.is_empty())
}

/// Every secret, in the order they are written.
pub fn secrets(env: Env<'_>) -> Vec<Secret> {
    let secret = |file: String, var: String, label: Option<String>, copy_to| Secret {
        given: given(env, &var),
        file,
        var,
        label,
        copy_to,
    };
    let mut out = vec![secret(
        "mysql/root-password".into(),
        "MYSQL_ROOT_PASSWORD".into(),
        Some("database-root-password".into()),
        None,
    )];
    for svc in SERVICES {
        out.push(secret(
            format!("{svc}/db-password"),
            format!("{}_DB_PASSWORD", svc.to_uppercase()),
            Some(format!("{svc}-db-password")),
            Some(format!("mysql/{svc}-db-password")),
        ));
    }
    out.push(secret(
        "user/admin-password".into(),
        "BOOTSTRAP_ADMIN_PASSWORD".into(),
        Some("admin-password".into()),
        None,
    ));
    out.push(secret(
        "grafana/admin-password".into(),
        "GRAFANA_ADMIN_PASSWORD".into(),
        None,
        None,
    ));
    out
}

/// The given values that are still .env.example's placeholders (`change-me…`), each as a
/// line that says what to do. Any of them refuses the whole run before a file is written.
pub fn placeholders(secrets: &[Secret]) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| s.given.as_deref().is_some_and(|v| v.starts_with("change-me")))
        .map(|s| {
            format!(
                "{} ({}): the value in compose/.env is still the placeholder of .env.example; set it (see .env.example)",
                s.var, s.file
            )
        })
        .collect()
}

/// What to say after the secrets are in place: what was generated (a warning in
/// production), the admin login when its password was generated (`admin`: the email and
/// password), and whether payments go to the simulator.
pub fn report(generated: &[String], admin: Option<(&str, &str)>, env: Env<'_>) -> Vec<Line> {
    let production = given(env, "MALL_ENV").as_deref() == Some("production");
    let mut lines = Vec::new();
    if !generated.is_empty() {
        let list: String = generated.iter().map(|g| format!(" {g}")).collect();
        lines.push(Line::Say(format!(
            "generated:{list} (kept in the stack's secret volumes)"
        )));
        if production {
            lines.push(Line::Loud(format!(
                "generated secrets:{list}; set them in compose/.env"
            )));
        }
    }
    if let Some((email, password)) = admin {
        lines.push(Line::Say(format!("admin login: {email} / {password}")));
    }
    let gateway = given(env, "GATEWAY_URL").unwrap_or_else(|| SIMULATOR_URL.into());
    if gateway.starts_with("http://gateway-sim:") {
        lines.push(Line::Say(
            "payments go to the card gateway SIMULATOR (GATEWAY_URL is not set)".into(),
        ));
        if production {
            lines.push(Line::Loud(
                "payments go to the card gateway simulator; set GATEWAY_URL in compose/.env".into(),
            ));
        }
    }
    lines.push(Line::Say("secrets ready".into()));
    lines
}

/// The admin's email: BOOTSTRAP_ADMIN_EMAIL, else the demo's.
pub fn admin_email(env: Env<'_>) -> String {
    given(env, "BOOTSTRAP_ADMIN_EMAIL").unwrap_or_else(|| "admin@mall.local".into())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
