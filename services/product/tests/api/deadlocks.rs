//! A call InnoDB picks as a deadlock's victim is run again (`mall_store::deadlock`), not
//! answered 500. Each test makes the deadlock on purpose: a transaction of the test's own
//! holds a product row, having changed it many times (InnoDB rolls back the transaction
//! that changed fewer rows, so the call, which has changed nothing when it starts to wait,
//! is the victim); the call under test locks a row and waits for that product; the test's
//! transaction then asks for the call's row, which closes the cycle.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Pool};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// The test's own transaction, holding product `id` after changing it 50 times.
async fn heavy_holder_of(pool: &Pool, id: u64) -> Conn {
    let mut conn = pool.get_conn().await.unwrap();
    conn.query_drop("START TRANSACTION").await.unwrap();
    for n in 0..50 {
        let delta = if n % 2 == 0 { 1 } else { -1 };
        conn.exec_drop(
            "UPDATE products SET stock = stock + ? WHERE id = ?",
            (delta, id),
        )
        .await
        .unwrap();
    }
    conn
}

/// Once the call waits, the holder asks for the row the call holds, with `sql` (for `id`),
/// and commits: InnoDB must roll the call back, not the holder. What the holder read.
async fn close_the_cycle<T: mysql_async::prelude::FromValue + Send + 'static>(
    pool: &Pool,
    mut holder: Conn,
    sql: &str,
    id: u64,
) -> Option<T> {
    // The call is stuck on the holder's product row, or about to be.
    mall_testkit::until_a_statement_runs(pool, "%products%").await;
    let read = holder
        .exec_first(sql, (id,))
        .await
        .expect("InnoDB rolled back the call, not the heavier holder");
    holder.query_drop("COMMIT").await.unwrap();
    read
}

fn post(app: &TestApp, path: &str, body: Option<Value>) -> tokio::task::JoinHandle<(u16, Value)> {
    let mut request = app.http.post(app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    tokio::spawn(async move {
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

/// The release locks its reservation, then waits for its product; the holder asks for the
/// reservation.
#[tokio::test]
async fn a_release_chosen_as_a_deadlocks_victim_runs_again() {
    let app = spawn_app().await;
    let p = app.create_id("Contended", 10).await;
    let order_id = 7001;
    let items = json!([{"product_id": p, "quantity": 2}]);
    assert_eq!(app.reserve(order_id, items).await.status(), 200);

    let pool = Pool::new(app.db_url());
    let holder = heavy_holder_of(&pool, p).await;
    let release = post(
        &app,
        &format!("/internal/reservations/{order_id}/release"),
        None,
    );
    let sql = "SELECT status FROM reservations WHERE order_id = ? FOR UPDATE";
    let status: Option<String> = close_the_cycle(&pool, holder, sql, order_id).await;
    assert_eq!(status.as_deref(), Some("reserved"));

    let (status, v) = release.await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "released", "{v}");
    assert_eq!(app.stock_in_mysql(p).await, 10);
    pool.disconnect().await.unwrap();
}

/// A reservation batch locks its products ascending: the first, then waits for the second,
/// which the holder has; the holder asks for the first.
#[tokio::test]
async fn a_reservation_batch_chosen_as_a_deadlocks_victim_runs_again() {
    let app = spawn_app().await;
    let first = app.create_id("First", 10).await;
    let second = app.create_id("Second", 10).await;
    assert!(first < second);

    let pool = Pool::new(app.db_url());
    let holder = heavy_holder_of(&pool, second).await;
    let order = |id: u64| {
        json!({"order_id": id, "items": [
            {"product_id": first, "quantity": 1}, {"product_id": second, "quantity": 1}
        ]})
    };
    let body = json!({"reservations": [order(8001), order(8002)]});
    let batch = post(&app, "/internal/reservations/batch", Some(body));
    let sql = "SELECT stock FROM products WHERE id = ? FOR UPDATE";
    let stock: Option<i64> = close_the_cycle(&pool, holder, sql, first).await;
    assert_eq!(stock, Some(10));

    let (status, v) = batch.await.unwrap();
    assert_eq!(status, 200, "{v}");
    let outcomes: Vec<&Value> = v["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["outcome"])
        .collect();
    assert_eq!(outcomes, [&json!("reserved"), &json!("reserved")], "{v}");
    assert_eq!(app.stock_in_mysql(first).await, 8);
    assert_eq!(app.stock_in_mysql(second).await, 8);
    pool.disconnect().await.unwrap();
}
