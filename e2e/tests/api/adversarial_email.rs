//! Look-alike accounts (issue "Hardening", class 6): an email is one account whatever its
//! case or its Unicode composition, and an address with an invisible character is refused,
//! so nobody can register a second account that reads like someone else's.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{mall, send, unique_tag};

async fn register(email: &str) -> crate::helpers::Reply {
    send(mall().post("/api/users/register").json(&json!({
        "email": email,
        "password": "correct horse battery",
        "name": "Look Alike",
    })))
    .await
}

#[tokio::test]
async fn the_same_address_in_another_case_or_composition_is_the_same_account() {
    let tag = unique_tag();
    // "josé" with é as one character, then as e + combining acute, then upper case.
    let composed = format!("jos\u{e9}-{tag}@mall.test");
    let decomposed = format!("jose\u{301}-{tag}@mall.test");
    let upper = format!("JOS\u{c9}-{tag}@MALL.TEST");

    register(&composed).await.expect_status(StatusCode::CREATED);

    for twin in [decomposed, upper] {
        let reply = register(&twin).await;
        reply.expect_status(StatusCode::CONFLICT);
    }
}

#[tokio::test]
async fn an_address_with_an_invisible_character_is_refused() {
    let tag = unique_tag();
    for invisible in ["\u{200b}", "\u{200d}", "\u{2060}", "\u{feff}", "\u{202e}"] {
        let email = format!("ad{invisible}min-{tag}@mall.test");

        let reply = register(&email).await;

        reply.expect_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            reply.body["error"]["code"], "validation_failed",
            "{}",
            reply.text
        );
    }
}
