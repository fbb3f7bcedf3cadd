//! Adversarial: logout ends the whole sign-in. Every access token of that sign-in (its
//! refresh family: the login's token and every token a refresh gave since) is refused within
//! 1 s, whichever of them was presented to log out; another sign-in of the same user is
//! untouched.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{eventually, mall, send, Mall, Tokens};

/// The bound API.md gives revocations.
const WITHIN: Duration = Duration::from_secs(1);

async fn refreshed(mall: &Mall, tokens: &Tokens) -> Tokens {
    let reply = mall.try_refresh(&tokens.refresh).await;
    reply.expect_status(StatusCode::OK);
    Tokens::from_reply(&reply)
}

async fn all_refused(mall: &Mall, tokens: &[&str]) -> bool {
    for token in tokens {
        if mall.me(token).await.status != StatusCode::UNAUTHORIZED {
            return false;
        }
    }
    true
}

async fn log_out(mall: &Mall, access: &str) {
    send(mall.post("/api/users/logout").bearer_auth(access))
        .await
        .expect_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn logout_revokes_every_access_token_of_the_sign_in() {
    let mall = mall();
    let (user, first) = mall.customer().await;
    let second = refreshed(&mall, &first).await;
    let third = refreshed(&mall, &second).await;
    let other_sign_in = mall.login(&user.email, &user.password).await;

    // Logging out with the newest token ends the tokens from before the refreshes too.
    log_out(&mall, &third.access).await;

    let gone = [
        first.access.as_str(),
        second.access.as_str(),
        third.access.as_str(),
    ];
    assert!(
        eventually(WITHIN, || all_refused(&mall, &gone)).await,
        "an access token of the signed-out sign-in still works 1 s after logout"
    );
    for token in gone {
        mall.me(token)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "token_revoked");
    }
    mall.try_refresh(&third.refresh)
        .await
        .expect_status(StatusCode::UNAUTHORIZED);
    mall.me(&other_sign_in.access)
        .await
        .expect_status(StatusCode::OK);

    // Logging out with the oldest token ends the newer ones as well.
    let newer = refreshed(&mall, &other_sign_in).await;
    log_out(&mall, &other_sign_in.access).await;
    let newer_only = [newer.access.as_str()];
    assert!(
        eventually(WITHIN, || all_refused(&mall, &newer_only)).await,
        "the refreshed token still works 1 s after logging out with the token before it"
    );
    mall.try_refresh(&newer.refresh)
        .await
        .expect_status(StatusCode::UNAUTHORIZED);
}
