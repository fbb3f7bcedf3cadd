use super::*;

fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn every_secret_has_its_variable_and_the_services_a_copy_for_the_database() {
    let env = env_of(&[("CART_DB_PASSWORD", "s3cret"), ("MYSQL_ROOT_PASSWORD", "")]);
    let all = secrets(&env);
    let files: Vec<&str> = all.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "mysql/root-password",
            "user/db-password",
            "product/db-password",
            "cart/db-password",
            "order/db-password",
            "payment/db-password",
            "user/admin-password",
            "grafana/admin-password",
        ]
    );
    let cart = &all[3];
    assert_eq!(cart.var, "CART_DB_PASSWORD");
    assert_eq!(cart.given.as_deref(), Some("s3cret"));
    assert_eq!(cart.copy_to.as_deref(), Some("mysql/cart-db-password"));
    // An empty value is no value: it is generated.
    assert_eq!(all[0].given, None);
    assert_eq!(all[7].label, None, "grafana's password is not announced");
}

#[test]
fn placeholders_are_refused_naming_each_variable() {
    let env = env_of(&[
        ("MYSQL_ROOT_PASSWORD", "change-me-root"),
        ("ORDER_DB_PASSWORD", "change-me"),
        ("USER_DB_PASSWORD", "fine-change-me"),
    ]);
    let refused = placeholders(&secrets(&env));
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].starts_with("MYSQL_ROOT_PASSWORD (mysql/root-password): "));
    assert!(refused[1].starts_with("ORDER_DB_PASSWORD (order/db-password): "));
    assert!(refused[1].contains("see .env.example"));
    assert!(placeholders(&secrets(&env_of(&[]))).is_empty());
}

#[test]
fn a_demo_says_what_it_generated_and_that_payments_are_simulated() {
    let generated = vec![
        "database-root-password".to_string(),
        "admin-password".into(),
    ];
    let lines = report(&generated, Some(("admin@mall.local", "pw")), &env_of(&[]));
    assert_eq!(
        lines,
        [
            Line::Say("generated: database-root-password admin-password (kept in the stack's secret volumes)".into()),
            Line::Say("admin login: admin@mall.local / pw".into()),
            Line::Say("payments go to the card gateway SIMULATOR (GATEWAY_URL is not set)".into()),
            Line::Say("secrets ready".into()),
        ]
    );
}

#[test]
fn production_warns_loudly_about_generated_secrets_and_the_simulator() {
    let env = env_of(&[("MALL_ENV", "production"), ("GATEWAY_URL", "")]);
    let lines = report(&["jwt-signing-key".to_string()], None, &env);
    let loud: Vec<&Line> = lines
        .iter()
        .filter(|l| matches!(l, Line::Loud(_)))
        .collect();
    assert_eq!(
        loud,
        [
            &Line::Loud("generated secrets: jwt-signing-key; set them in compose/.env".into()),
            &Line::Loud(
                "payments go to the card gateway simulator; set GATEWAY_URL in compose/.env".into()
            ),
        ]
    );
}

#[test]
fn a_real_gateway_and_nothing_generated_say_only_ready() {
    let env = env_of(&[
        ("MALL_ENV", "production"),
        ("GATEWAY_URL", "https://pay.example"),
    ]);
    assert_eq!(report(&[], None, &env), [Line::Say("secrets ready".into())]);
}

#[test]
fn the_services_are_mall_toml_parts_with_a_database() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mall = mall_desc::load(std::path::Path::new(root)).unwrap();
    let with_db: Vec<&str> = mall
        .parts
        .iter()
        .filter(|p| p.database.is_some())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(with_db, SERVICES);
}
