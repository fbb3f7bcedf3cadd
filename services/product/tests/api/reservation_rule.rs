//! A reservation's rule is written once in Rust (domain/reservation.rs: `ReservationStatus`'s
//! `can_commit` / `can_release`, `ReservationMove::effect_on`) and applied by stored
//! procedures (migrations/0003) that spell it again in SQL. These tests prove that the two
//! agree: each move's procedure, called from every status, does what the domain says, and
//! from a status the domain does not know it moves nothing.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use product_service::domain::{MoveEffect, ReservationMove as Move, ReservationStatus as Status};

use crate::helpers::spawn_app;
use crate::reservation_procedures::{
    commit, commit_many, connect, product, release, stocks, stored, NOW,
};

const QUANTITY: i64 = 2;

/// A reservation of `QUANTITY` of `product_id` in `status`, written directly.
async fn put(conn: &mut Conn, order_id: u64, status: &str, product_id: u64) {
    conn.exec_drop(
        "INSERT INTO reservations (order_id, status, created_at, updated_at)
         VALUES (?, ?, ?, ?)",
        (order_id, status, NOW, NOW),
    )
    .await
    .unwrap();
    conn.exec_drop(
        "INSERT INTO reservation_items (order_id, product_id, quantity, price)
         VALUES (?, ?, ?, 100)",
        (order_id, product_id, QUANTITY),
    )
    .await
    .unwrap();
}

/// The move's procedure: `outcome, status` of its answer.
async fn call(conn: &mut Conn, m: Move, order_id: u64) -> (String, Option<String>) {
    let later = "2030-02-03 04:05:06.000007";
    match m {
        Move::Commit => commit(conn, order_id, later).await,
        Move::Release => {
            let (outcome, status, _) = release(conn, order_id, later).await;
            (outcome, status)
        }
    }
}

#[tokio::test]
async fn every_move_from_every_status_does_what_the_domain_says() {
    let app = spawn_app().await;
    let p = product(&app, "P", 100, 50).await;
    let mut conn = connect(&app).await;
    let mut order_id = 0;
    let mut pairs = 0;

    for from in Status::ALL {
        for m in Move::ALL {
            order_id += 1;
            put(&mut conn, order_id, from.as_str(), p).await;
            let before = stocks(&mut conn, &[p]).await[0];

            let (outcome, answered) = call(&mut conn, m, order_id).await;

            let effect = m.effect_on(from);
            let (want, after) = match effect {
                MoveEffect::Applies => ("moved", m.target()),
                MoveEffect::AlreadyDone => ("unchanged", from),
                MoveEffect::Refused => ("refused", from),
            };
            let case = format!("{m:?} from {from:?}");
            assert_eq!(outcome, want, "{case}");
            assert_eq!(answered.as_deref(), Some(after.as_str()), "{case}");
            let (status, _) = stored(&mut conn, order_id).await.unwrap();
            assert_eq!(status, after.as_str(), "{case}: stored");
            let restocked = match (effect, m) {
                (MoveEffect::Applies, Move::Release) => QUANTITY,
                _ => 0,
            };
            let stock = stocks(&mut conn, &[p]).await[0];
            assert_eq!(stock, before + restocked, "{case}: stock");
            pairs += 1;
        }
    }
    assert_eq!(pairs, 6, "every (status, move) pair");
}

#[tokio::test]
async fn a_batch_commit_does_for_each_order_what_the_domain_says_in_one_call() {
    for version in [1, 2] {
        let app = spawn_app().await;
        let p = product(&app, "P", 100, 50).await;
        let mut conn = connect(&app).await;
        // One order in each status, an order with no reservation, and a status the domain
        // does not know; all in one call, in the order given (not sorted here).
        let mut orders: Vec<(u64, Option<&str>)> = Vec::new();
        for (i, from) in Status::ALL.into_iter().enumerate() {
            let order_id = 30 - i as u64;
            put(&mut conn, order_id, from.as_str(), p).await;
            orders.push((order_id, Some(from.as_str())));
        }
        put(&mut conn, 40, "RESERVED", p).await;
        orders.push((40, Some("RESERVED")));
        orders.push((41, None));
        let ids: Vec<u64> = orders.iter().map(|(id, _)| *id).collect();
        let later = "2030-02-03 04:05:06.000007";

        let answers = commit_many(&mut conn, version, &ids, later).await;

        assert_eq!(
            answers.iter().map(|a| a.0).collect::<Vec<_>>(),
            ids,
            "one answer per order, in the order given"
        );
        for ((order_id, from), (_, outcome, status)) in orders.iter().zip(&answers) {
            let (want, after) = match from.map(|f| (f, Status::parse(f))) {
                None => ("not_found", None),
                Some((f, None)) => ("refused", Some(f.to_owned())),
                Some((_, Some(s))) => match Move::Commit.effect_on(s) {
                    MoveEffect::Applies => ("moved", Some(Move::Commit.target().as_str().into())),
                    MoveEffect::AlreadyDone => ("unchanged", Some(s.as_str().into())),
                    MoveEffect::Refused => ("refused", Some(s.as_str().into())),
                },
            };
            let case = format!("v{version}: order {order_id} from {from:?}");
            assert_eq!(outcome, want, "{case}");
            assert_eq!(status, &after, "{case}");
            let stored_now = stored(&mut conn, *order_id).await;
            assert_eq!(
                stored_now.as_ref().map(|s| s.0.clone()),
                after,
                "{case}: stored"
            );
            if want == "moved" {
                assert_eq!(stored_now.unwrap().1, later, "{case}: updated_at");
            }
        }
        assert_eq!(
            stocks(&mut conn, &[p]).await,
            [50],
            "a commit moves no stock"
        );
    }
}

/// A batch of one commit is sent as the procedure's statements on their own (storage's
/// `commit_one`), a batch of two as the procedure: from every status (and for an order
/// never reserved), both answer and store the same, which is what the domain says.
#[tokio::test]
async fn a_lone_commit_does_what_a_batched_one_does_from_every_status() {
    let app = spawn_app().await;
    let p = product(&app, "P", 100, 50).await;
    let mut conn = connect(&app).await;
    let commits = |ids: Vec<u64>| {
        let body = serde_json::json!({"commits": ids.iter().map(|id| serde_json::json!({"order_id": id})).collect::<Vec<_>>()});
        let r = app
            .http
            .post(app.url("/internal/reservations/commits"))
            .json(&body)
            .send();
        async move {
            let r = r.await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()["commits"].clone()
        }
    };
    let mut order_id = 100;
    for from in Status::ALL.map(Some).into_iter().chain([None]) {
        let (alone, batched, other) = (order_id + 1, order_id + 2, order_id + 3);
        order_id += 3;
        if let Some(from) = from {
            for id in [alone, batched, other] {
                put(&mut conn, id, from.as_str(), p).await;
            }
        }

        let lone = commits(vec![alone]).await;
        let pair = commits(vec![batched, other]).await;

        let case = format!("from {from:?}");
        let without_id = |v: &serde_json::Value| {
            let mut v = v.clone();
            v.as_object_mut().unwrap().remove("order_id");
            v
        };
        assert_eq!(
            without_id(&lone[0]),
            without_id(&pair[0]),
            "{case}: {lone} {pair}"
        );
        let want = match from.map(|s| Move::Commit.effect_on(s)) {
            None => "not_found",
            Some(MoveEffect::Applies | MoveEffect::AlreadyDone) => "committed",
            Some(MoveEffect::Refused) => "refused",
        };
        assert_eq!(lone[0]["outcome"], want, "{case}: {lone}");
        assert_eq!(
            stored(&mut conn, alone).await.map(|s| s.0),
            stored(&mut conn, batched).await.map(|s| s.0),
            "{case}: stored"
        );
    }
    assert_eq!(stocks(&mut conn, &[p]).await, [50], "commits move no stock");
}

#[tokio::test]
async fn a_status_outside_the_domain_moves_nowhere_and_the_service_errs() {
    let app = spawn_app().await;
    let p = product(&app, "P", 100, 50).await;
    let mut conn = connect(&app).await;

    // Statuses compare exactly (ascii_bin), as the column does: `RESERVED` is no status.
    for (order_id, status) in [(1, "RESERVED"), (2, "Committed"), (3, "cancelled")] {
        put(&mut conn, order_id, status, p).await;
        for m in Move::ALL {
            let answer = call(&mut conn, m, order_id).await;

            assert_eq!(answer, ("refused".into(), Some(status.into())), "{m:?}");
            assert_eq!(stored(&mut conn, order_id).await.unwrap().0, status);
            assert_eq!(stocks(&mut conn, &[p]).await, [50]);
            let path = match m {
                Move::Commit => format!("/internal/reservations/{order_id}/commit"),
                Move::Release => format!("/internal/reservations/{order_id}/release"),
            };
            let r = app.http.post(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 500, "{path}: an unknown status is an error");
            if m == Move::Commit {
                let body = serde_json::json!({"commits": [{"order_id": order_id}]});
                let path = app.url("/internal/reservations/commits");
                let r = app.http.post(path).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 500, "a lone commit too: {status}");
            }
        }
    }
}
