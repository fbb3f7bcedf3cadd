//! A refresh-token rotation InnoDB picks as a deadlock's victim runs again
//! (`mall_store::deadlock`) instead of answering 503: two tokens of one family presented
//! at once can each lock its own row and then wait for the other's while revoking the
//! family. The test makes such a cycle on purpose with a transaction of its own.

use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use serde_json::{json, Value};

use crate::helpers::{claims, spawn_app};

/// The user id (`sub`) and refresh token of a fresh account's sign-in.
async fn signed_in(app: &crate::helpers::TestApp) -> (u64, String) {
    let pair = app.signed_in_pair().await;
    let sub = claims(pair["access_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    (sub, pair["refresh_token"].as_str().unwrap().to_owned())
}

/// The rotation locks the presented token's row, marks it used and waits to insert its
/// successor into the gap of `ix_refresh_user` that the test's transaction holds (the
/// next-key lock of a later user's row). That transaction has changed a row 50 times
/// (InnoDB rolls back the one that changed fewer: the rotation) and then asks for the
/// presented token's row, which closes the cycle.
#[tokio::test]
async fn a_rotation_chosen_as_a_deadlocks_victim_runs_again() {
    let app = spawn_app().await;
    let (user, refresh) = signed_in(&app).await;
    let (later, _) = signed_in(&app).await;
    assert!(later > user);

    let pool = Pool::new(app.db_url().as_str());
    let mut watch = pool.get_conn().await.unwrap();
    let presented: u64 = watch
        .exec_first("SELECT id FROM refresh_tokens WHERE user_id = ?", (user,))
        .await
        .unwrap()
        .unwrap();
    let mut holder = pool.get_conn().await.unwrap();
    holder.query_drop("START TRANSACTION").await.unwrap();
    for n in 0..50 {
        holder
            .exec_drop(
                "UPDATE refresh_tokens SET access_expires_at = access_expires_at + ? WHERE user_id = ?",
                (if n % 2 == 0 { 1 } else { -1 }, later),
            )
            .await
            .unwrap();
    }
    let held: Vec<u64> = holder
        .exec(
            "SELECT id FROM refresh_tokens WHERE user_id = ? FOR UPDATE",
            (later,),
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 1);

    let request = app
        .http
        .post(app.url("/api/users/refresh"))
        .json(&json!({ "refresh_token": refresh }));
    let rotation = tokio::spawn(async move {
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    mall_testkit::until_a_statement_runs(&pool, "INSERT INTO refresh_tokens%").await;
    let used: Option<Option<chrono::NaiveDateTime>> = holder
        .exec_first(
            "SELECT used_at FROM refresh_tokens WHERE id = ? FOR UPDATE",
            (presented,),
        )
        .await
        .expect("InnoDB rolled back the rotation, not the heavier holder");
    assert_eq!(used, Some(None), "the victim left nothing");
    holder.query_drop("COMMIT").await.unwrap();

    let (status, pair) = rotation.await.unwrap();
    assert_eq!(status, 200, "{pair}");
    assert_ne!(pair["refresh_token"].as_str(), Some(refresh.as_str()));
    let tokens: Vec<(u64, Option<chrono::NaiveDateTime>)> = watch
        .exec(
            "SELECT id, used_at FROM refresh_tokens WHERE user_id = ? ORDER BY id",
            (user,),
        )
        .await
        .unwrap();
    assert_eq!(tokens.len(), 2, "the spent token and one successor");
    assert!(tokens[0].1.is_some() && tokens[1].1.is_none(), "{tokens:?}");
    drop((watch, holder));
    pool.disconnect().await.unwrap();
}
