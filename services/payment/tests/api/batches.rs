//! The batch procedures of migrations/0002 (v1, the other slot's code) and 0003 (v2,
//! storage/batched.rs calls them), called over SQL: each item gets what its own statement
//! would have done, in the order given, and one error undoes the whole batch. v1 answers
//! rows, v2 the same entries in one JSON value.

use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::Conn;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::helpers::spawn_app;

type Stored = (u64, String, Option<String>, String);

async fn rows(conn: &mut mysql_async::Conn) -> Vec<Stored> {
    conn.query(
        "SELECT order_id, status, gateway_charge_id,
                DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f')
         FROM payments ORDER BY order_id",
    )
    .await
    .unwrap()
}

/// Both versions of each batch procedure.
const VERSIONS: [u8; 2] = [1, 2];

/// `CALL <call>` with the batch `json`, its answer read as `R` whichever way `version` gives it.
async fn call_many<R>(
    conn: &mut Conn,
    version: u8,
    call: &str,
    json: String,
) -> Result<Vec<R>, mysql_async::Error>
where
    R: FromRow + DeserializeOwned + Send + 'static,
{
    if version == 1 {
        return conn.exec(call, (json,)).await;
    }
    let answer: Option<String> = conn.exec_first(call, (json,)).await?;
    Ok(serde_json::from_str(&answer.expect("one answer")).expect("a JSON array"))
}

async fn create_many(
    conn: &mut Conn,
    version: u8,
    rows: String,
) -> Result<Vec<(u64, Option<u64>)>, mysql_async::Error> {
    let call = format!("CALL payment_create_many_v{version}(?, 'pending')");
    call_many(conn, version, &call, rows).await
}

async fn settle_many(
    conn: &mut Conn,
    version: u8,
    moves: String,
) -> Result<Vec<(u64, i64)>, mysql_async::Error> {
    let call = format!("CALL payment_settle_many_v{version}(?)");
    call_many(conn, version, &call, moves).await
}

#[tokio::test]
async fn a_batch_of_new_payments_inserts_each_and_skips_an_order_that_has_one() {
    for version in VERSIONS {
        let app = spawn_app().await;
        let mut conn = app.conn().await;
        let row = |order: u64, amount: i64, at: &str| json!({"order_id": order, "user_id": 5, "amount": amount, "currency": "KRW", "at": at});
        let first = json!([row(1, 100, "2030-01-01 00:00:00.000001")]).to_string();
        let answer = create_many(&mut conn, version, first).await.unwrap();
        let one = answer[0].1.expect("a new payment's id");

        let batch = json!([
            row(2, 200, "2030-01-01 00:00:00.000002"),
            row(1, 999, "2030-01-01 00:00:00.000003"),
            row(3, 300, "2030-01-01 00:00:00.000004"),
            row(2, 200, "2030-01-01 00:00:00.000005"),
        ])
        .to_string();
        let answer = create_many(&mut conn, version, batch).await.unwrap();

        let orders: Vec<u64> = answer.iter().map(|a| a.0).collect();
        assert_eq!(
            orders,
            [2, 1, 3, 2],
            "one answer per row, in the order given"
        );
        assert!(answer[0].1.is_some() && answer[2].1.is_some());
        assert_eq!(answer[1].1, None, "order 1 has a payment: skipped");
        assert_eq!(
            answer[3].1, None,
            "order 2 twice in one batch: the second is skipped"
        );
        let stored = rows(&mut conn).await;
        assert_eq!(stored.len(), 3);
        assert_eq!(
            stored[1],
            (
                2,
                "pending".into(),
                None,
                "2030-01-01 00:00:00.000002".into()
            ),
            "each row at its own time"
        );
        let amount: Option<i64> = conn
            .exec_first("SELECT amount FROM payments WHERE id = ?", (one,))
            .await
            .unwrap();
        assert_eq!(amount, Some(100), "the skipped row changed nothing");

        // An error in one row (a negative amount breaks the table's check) undoes the batch.
        let bad = json!([
            row(4, 400, "2030-01-01 00:00:00.000006"),
            row(5, -1, "2030-01-01 00:00:00.000007")
        ])
        .to_string();
        let failed = create_many(&mut conn, version, bad).await;
        assert!(failed.is_err());
        assert_eq!(
            rows(&mut conn).await.len(),
            3,
            "order 4 was rolled back too"
        );
    }
}

#[tokio::test]
async fn a_batch_of_settlements_moves_only_the_payments_still_in_their_from_status() {
    for version in VERSIONS {
        let app = spawn_app().await;
        let mut conn = app.conn().await;
        let new = json!([
        {"order_id": 1, "user_id": 5, "amount": 100, "currency": "KRW", "at": "2030-01-01 00:00:00.000001"},
        {"order_id": 2, "user_id": 5, "amount": 100, "currency": "KRW", "at": "2030-01-01 00:00:00.000001"},
    ])
    .to_string();
        let ids = create_many(&mut conn, version, new).await.unwrap();
        let (a, b) = (ids[0].1.unwrap(), ids[1].1.unwrap());
        let settle = |id: u64, to: &str, charge: &str, at: &str| json!({"id": id, "from": "pending", "to": to, "charge_id": charge, "at": at});

        let moves = json!([
            settle(a, "approved", "ch_a", "2030-01-01 00:00:01.000001"),
            settle(a, "declined", "ch_x", "2030-01-01 00:00:01.000002"),
            settle(b, "declined", "ch_b", "2030-01-01 00:00:01.000003"),
            settle(b + 100, "approved", "ch_c", "2030-01-01 00:00:01.000004"),
        ])
        .to_string();
        let changed = settle_many(&mut conn, version, moves).await.unwrap();

        assert_eq!(
            changed,
            [(a, 1), (a, 0), (b, 1), (b + 100, 0)],
            "the second move of one payment saw the first; an unknown id moves nothing"
        );
        assert_eq!(
            rows(&mut conn).await,
            [
                (
                    1,
                    "approved".into(),
                    Some("ch_a".into()),
                    "2030-01-01 00:00:01.000001".into()
                ),
                (
                    2,
                    "declined".into(),
                    Some("ch_b".into()),
                    "2030-01-01 00:00:01.000003".into()
                ),
            ]
        );
    }
}
