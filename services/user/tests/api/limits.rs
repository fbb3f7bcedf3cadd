//! The login and registration limits, per source address (`X-Real-IP`, which nginx always
//! sets) and per address + account: brute force is slowed down, nobody can lock another
//! person out, and one address cannot register without end. The test app's settings
//! (helpers.rs): 3 free failures per address + account, 100 per address, 50 registrations
//! per address.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{spawn_app, unique_email, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD};

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/users/login"))
        .header("x-real-ip", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_attacker_cannot_lock_the_admin_out() {
    let app = spawn_app().await;
    for _ in 0..10 {
        login_from(&app, "198.51.100.7", ADMIN_EMAIL, "wrong password!!").await;
    }
    let attacker = login_from(&app, "198.51.100.7", ADMIN_EMAIL, "wrong password!!").await;
    assert_eq!(
        attacker.status(),
        429,
        "the attacker's guessing is slowed down"
    );
    assert!((1..=60).contains(&retry_after(&attacker)));

    let owner = login_from(&app, "203.0.113.9", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(owner.status(), 200, "the admin elsewhere is not held back");

    // At the attacker's own address the right password waits its turn, then gets in.
    let mut same = login_from(&app, "198.51.100.7", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    if same.status() == 429 {
        let wait = retry_after(&same);
        assert!(wait <= 2, "a short, announced wait (Retry-After {wait})");
        tokio::time::sleep(Duration::from_secs(wait)).await;
        same = login_from(&app, "198.51.100.7", ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }
    assert_eq!(same.status(), 200);
    // That cleared the pair: a mistyped password next is an ordinary 401.
    let typo = login_from(&app, "198.51.100.7", ADMIN_EMAIL, "wrong password!!").await;
    assert_eq!(typo.status(), 401);
}

#[tokio::test]
async fn guessing_across_many_accounts_from_one_address_is_slowed_down() {
    let app = spawn_app().await;
    let email = unique_email();
    app.register(&email).await;
    // 100 free failures per address, each for another (unknown) account.
    for n in 0..100 {
        let r = login_from(&app, "192.0.2.1", &unique_email(), "wrong password!!").await;
        assert_eq!(r.status(), 401, "failure {n} is free");
    }

    let r = login_from(&app, "192.0.2.1", &unique_email(), "wrong password!!").await;

    assert_eq!(r.status(), 429);
    assert!((1..=60).contains(&retry_after(&r)));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let other = login_from(&app, "192.0.2.2", &email, "correct horse battery").await;
    assert_eq!(other.status(), 200, "another address is not affected");
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = spawn_app().await;
    let register = |ip: &'static str, email: String| {
        app.http
            .post(app.url("/api/users/register"))
            .header("x-real-ip", ip)
            .json(&json!({"email": email, "password": "correct horse battery", "name": "Ann"}))
            .send()
    };
    // Every attempt counts, invalid ones included (they cost no password hash).
    for _ in 0..49 {
        let r = register("192.0.2.50", "not an email".into()).await.unwrap();
        assert_eq!(r.status(), 422);
    }
    let fiftieth = register("192.0.2.50", unique_email()).await.unwrap();
    assert_eq!(fiftieth.status(), 201);

    let refused = register("192.0.2.50", unique_email()).await.unwrap();

    assert_eq!(refused.status(), 429);
    assert!(retry_after(&refused) >= 1);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let elsewhere = register("192.0.2.51", unique_email()).await.unwrap();
    assert_eq!(
        elsewhere.status(),
        201,
        "another address may still register"
    );
}
