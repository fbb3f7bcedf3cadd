//! The contract of the reservation procedures (migrations/0003 and their v2/v3 of
//! migrations/0004 and 0005), each called directly over SQL as storage/reservations.rs
//! calls it: every outcome each one answers, as a value in its first column, and what each
//! leaves in the tables. reserve_v2 and reservation_commit_many_v1 are what an older slot
//! calls, reserve_v3 and reservation_commit_many_v2 what this one calls: the tests run
//! both. (reserve_v1 keeps its own test in reservation_answers.rs.)

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::helpers::{spawn_app, TestApp};

/// The caller's clock, which the procedures write (never the server's).
pub const NOW: &str = "2030-01-02 03:04:05.000006";
const LATER: &str = "2030-01-02 03:04:06.000007";

/// `outcome, product_id, name, price, currency`
pub type ReserveRow = (String, u64, Option<String>, Option<i64>, Option<String>);

pub async fn product(app: &TestApp, name: &str, price: i64, stock: i64) -> u64 {
    let created = app.create(name, price, stock, "X").await;
    created["id"].as_u64().unwrap()
}

pub async fn connect(app: &TestApp) -> Conn {
    Conn::from_url(app.db_url()).await.unwrap()
}

/// The reserve procedures an older slot and this one call.
pub const RESERVES: [&str; 2] = ["reserve_v2", "reserve_v3"];

/// This slot's reserve (storage/reservations.rs).
pub async fn reserve(
    conn: &mut Conn,
    order_id: u64,
    items: &[(u64, u32)],
) -> Result<Vec<ReserveRow>, mysql_async::Error> {
    reserve_with(conn, "reserve_v3", order_id, items).await
}

pub async fn reserve_with(
    conn: &mut Conn,
    procedure: &str,
    order_id: u64,
    items: &[(u64, u32)],
) -> Result<Vec<ReserveRow>, mysql_async::Error> {
    let items = serde_json::to_string(items).unwrap();
    let call = format!("CALL {procedure}(?, ?, ?)");
    conn.exec(call, (order_id, items, NOW)).await
}

/// `outcome, status`
pub async fn commit(conn: &mut Conn, order_id: u64, at: &str) -> (String, Option<String>) {
    let rows = conn
        .exec("CALL reservation_commit_v1(?, ?)", (order_id, at))
        .await
        .unwrap();
    one(rows)
}

/// `order_id, outcome, status` per order, as `reservation_commit_many_v<version>` answers
/// them: v1 in rows, v2 in one JSON value.
pub async fn commit_many(
    conn: &mut Conn,
    version: u8,
    order_ids: &[u64],
    at: &str,
) -> Vec<(u64, String, Option<String>)> {
    let ids = serde_json::to_string(order_ids).unwrap();
    let call = format!("CALL reservation_commit_many_v{version}(?, ?)");
    if version == 1 {
        return conn.exec(call, (ids, at)).await.unwrap();
    }
    let answer: Option<String> = conn.exec_first(call, (ids, at)).await.unwrap();
    serde_json::from_str(&answer.expect("one answer")).expect("a JSON array of entries")
}

/// `outcome, status, product_ids`
pub async fn release(
    conn: &mut Conn,
    order_id: u64,
    at: &str,
) -> (String, Option<String>, Option<Vec<u64>>) {
    let rows: Vec<(String, Option<String>, Option<String>)> = conn
        .exec("CALL reservation_release_v1(?, ?)", (order_id, at))
        .await
        .unwrap();
    let (outcome, status, ids) = one(rows);
    let ids = ids.map(|ids| serde_json::from_str(&ids).expect("a JSON array of ids"));
    (outcome, status, ids)
}

fn one<T: std::fmt::Debug>(rows: Vec<T>) -> T {
    assert_eq!(rows.len(), 1, "one row: {rows:?}");
    rows.into_iter().next().unwrap()
}

/// The reservation's status and `updated_at`, as stored.
pub async fn stored(conn: &mut Conn, order_id: u64) -> Option<(String, String)> {
    conn.exec_first(
        "SELECT status, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f')
         FROM reservations WHERE order_id = ?",
        (order_id,),
    )
    .await
    .unwrap()
}

pub async fn stocks(conn: &mut Conn, ids: &[u64]) -> Vec<i64> {
    let mut out = Vec::new();
    for &id in ids {
        let stock: Option<i64> = conn
            .exec_first("SELECT stock FROM products WHERE id = ?", (id,))
            .await
            .unwrap();
        out.push(stock.unwrap());
    }
    out
}

fn reserved(product_id: u64, name: &str, price: i64) -> ReserveRow {
    let (name, currency) = (Some(name.to_owned()), Some("KRW".to_owned()));
    ("reserved".into(), product_id, name, Some(price), currency)
}

#[tokio::test]
async fn reserve_answers_each_item_reserved_in_the_order_given() {
    for procedure in RESERVES {
        let app = spawn_app().await;
        let a = product(&app, "A", 100, 5).await;
        let b = product(&app, "B", 250, 5).await;
        let mut conn = connect(&app).await;

        // v3's caller sends the items sorted (domain/reservation.rs), v2's order is any.
        let (items, want) = match procedure {
            "reserve_v2" => (
                [(b, 2), (a, 1)],
                [reserved(b, "B", 250), reserved(a, "A", 100)],
            ),
            _ => (
                [(a, 1), (b, 2)],
                [reserved(a, "A", 100), reserved(b, "B", 250)],
            ),
        };
        let rows = reserve_with(&mut conn, procedure, 1, &items).await.unwrap();

        assert_eq!(rows, want, "{procedure}");
        assert_eq!(stocks(&mut conn, &[a, b]).await, [4, 3]);
        assert_eq!(
            stored(&mut conn, 1).await,
            Some(("reserved".into(), NOW.into()))
        );
        let items: Vec<(u64, u32, i64)> = conn
            .exec(
                "SELECT product_id, quantity, price FROM reservation_items
             WHERE order_id = 1 ORDER BY product_id",
                (),
            )
            .await
            .unwrap();
        assert_eq!(items, [(a, 1, 100), (b, 2, 250)], "{procedure}");
    }
}

#[tokio::test]
async fn reserve_names_the_first_short_product_in_one_row_and_keeps_nothing() {
    for procedure in RESERVES {
        let app = spawn_app().await;
        let a = product(&app, "A", 100, 5).await;
        let b = product(&app, "B", 200, 1).await;
        let c = product(&app, "C", 300, 0).await;
        let gone = product(&app, "Gone", 400, 5).await;
        assert_eq!(app.delete_product(gone).await, 204);
        let unknown = gone + 1000;
        let mut conn = connect(&app).await;

        for (short, items) in [
            (b, vec![(a, 2), (b, 2), (c, 1)]),
            (c, vec![(a, 2), (b, 1), (c, 1)]),
            (gone, vec![(a, 1), (gone, 1)]),
            (unknown, vec![(unknown, 1), (a, 1)]),
        ] {
            let rows = reserve_with(&mut conn, procedure, 2, &items).await.unwrap();

            let refused = ("out_of_stock".into(), short, None, None, None);
            assert_eq!(rows, [refused], "{procedure}");
            assert_eq!(stocks(&mut conn, &[a, b, c, gone]).await, [5, 1, 0, 5]);
            assert_eq!(stored(&mut conn, 2).await, None, "no reservation kept");
            let items: Option<i64> = conn
                .query_first("SELECT COUNT(*) FROM reservation_items WHERE order_id = 2")
                .await
                .unwrap();
            assert_eq!(items, Some(0), "no item kept");
        }
    }
}

#[tokio::test]
async fn reserve_replayed_is_a_duplicate_key_and_reserves_nothing_more() {
    for procedure in RESERVES {
        let app = spawn_app().await;
        let a = product(&app, "A", 100, 5).await;
        let mut conn = connect(&app).await;
        reserve_with(&mut conn, procedure, 3, &[(a, 2)])
            .await
            .unwrap();

        for items in [vec![(a, 2)], vec![(a, 1)]] {
            let err = reserve_with(&mut conn, procedure, 3, &items)
                .await
                .unwrap_err();

            assert!(
                matches!(&err, mysql_async::Error::Server(e) if e.code == 1062),
                "the error as raised: {err}"
            );
            assert_eq!(
                stocks(&mut conn, &[a]).await,
                [3],
                "{procedure}: reserved once"
            );
        }
    }
}

#[tokio::test]
async fn reserve_undoes_everything_on_an_error_inside() {
    for procedure in RESERVES {
        let app = spawn_app().await;
        let a = product(&app, "A", 100, 5).await;
        let mut conn = connect(&app).await;

        // The same product twice (which the service never sends): both updates pass, then the
        // second item row meets the first one's primary key.
        let err = reserve_with(&mut conn, procedure, 4, &[(a, 1), (a, 1)])
            .await
            .unwrap_err();

        assert!(matches!(&err, mysql_async::Error::Server(e) if e.code == 1062));
        // On the same connection: a transaction left open would show its writes here.
        assert_eq!(stored(&mut conn, 4).await, None, "{procedure}");
        assert_eq!(stocks(&mut conn, &[a]).await, [5], "{procedure}");
    }
}

#[tokio::test]
async fn commit_moves_a_reserved_reservation_once_then_answers_unchanged() {
    let app = spawn_app().await;
    let a = product(&app, "A", 100, 5).await;
    let mut conn = connect(&app).await;
    reserve(&mut conn, 5, &[(a, 2)]).await.unwrap();

    let first = commit(&mut conn, 5, LATER).await;
    let again = commit(&mut conn, 5, "2031-01-01 00:00:00").await;

    assert_eq!(first, ("moved".into(), Some("committed".into())));
    assert_eq!(again, ("unchanged".into(), Some("committed".into())));
    assert_eq!(
        stored(&mut conn, 5).await,
        Some(("committed".into(), LATER.into())),
        "written once, at the caller's time"
    );
    assert_eq!(
        stocks(&mut conn, &[a]).await,
        [3],
        "a commit moves no stock"
    );
}

#[tokio::test]
async fn commit_of_a_released_reservation_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let a = product(&app, "A", 100, 5).await;
    let mut conn = connect(&app).await;
    reserve(&mut conn, 6, &[(a, 2)]).await.unwrap();
    release(&mut conn, 6, NOW).await;

    let answer = commit(&mut conn, 6, LATER).await;

    assert_eq!(answer, ("refused".into(), Some("released".into())));
    assert_eq!(
        stored(&mut conn, 6).await,
        Some(("released".into(), NOW.into()))
    );
    assert_eq!(stocks(&mut conn, &[a]).await, [5]);
}

#[tokio::test]
async fn commit_and_release_of_an_unknown_order_are_not_found_and_write_nothing() {
    let app = spawn_app().await;
    let a = product(&app, "A", 100, 5).await;
    let mut conn = connect(&app).await;
    reserve(&mut conn, 7, &[(a, 1)]).await.unwrap();

    assert_eq!(
        commit(&mut conn, 404, NOW).await,
        ("not_found".into(), None)
    );
    assert_eq!(
        release(&mut conn, 404, NOW).await,
        ("not_found".into(), None, None)
    );
    assert_eq!(stored(&mut conn, 404).await, None);
    assert_eq!(stocks(&mut conn, &[a]).await, [4]);
}

#[tokio::test]
async fn release_of_a_reserved_reservation_restocks_each_item_once() {
    let app = spawn_app().await;
    let a = product(&app, "A", 100, 5).await;
    let b = product(&app, "B", 200, 5).await;
    let mut conn = connect(&app).await;
    reserve(&mut conn, 8, &[(a, 1), (b, 3)]).await.unwrap();

    let first = release(&mut conn, 8, LATER).await;
    let again = release(&mut conn, 8, "2031-01-01 00:00:00").await;

    assert_eq!(
        first,
        ("moved".into(), Some("released".into()), Some(vec![a, b]))
    );
    assert_eq!(again, ("unchanged".into(), Some("released".into()), None));
    assert_eq!(stocks(&mut conn, &[a, b]).await, [5, 5], "restocked once");
    assert_eq!(
        stored(&mut conn, 8).await,
        Some(("released".into(), LATER.into()))
    );
}

#[tokio::test]
async fn release_after_commit_restocks_exactly_once() {
    let app = spawn_app().await;
    let a = product(&app, "A", 100, 5).await;
    let b = product(&app, "B", 200, 5).await;
    let mut conn = connect(&app).await;
    reserve(&mut conn, 9, &[(a, 2), (b, 1)]).await.unwrap();
    commit(&mut conn, 9, NOW).await;

    let first = release(&mut conn, 9, LATER).await;
    let again = release(&mut conn, 9, LATER).await;

    assert_eq!(
        first,
        ("moved".into(), Some("released".into()), Some(vec![a, b]))
    );
    assert_eq!(again, ("unchanged".into(), Some("released".into()), None));
    assert_eq!(stocks(&mut conn, &[a, b]).await, [5, 5]);
}

#[tokio::test]
async fn release_undoes_every_restock_on_an_error_inside() {
    let app = spawn_app().await;
    let a = product(&app, "A", 100, 5).await;
    let b = product(&app, "B", 200, 5).await;
    let mut conn = connect(&app).await;
    reserve(&mut conn, 10, &[(a, 2), (b, 1)]).await.unwrap();
    // b's restock, the second, now overflows its INT column.
    conn.exec_drop("UPDATE products SET stock = 2147483647 WHERE id = ?", (b,))
        .await
        .unwrap();

    let err = conn
        .exec_drop("CALL reservation_release_v1(?, ?)", (10, LATER))
        .await
        .unwrap_err();

    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1264),
        "the error as raised: {err}"
    );
    assert_eq!(stocks(&mut conn, &[a, b]).await, [3, 2_147_483_647]);
    assert_eq!(
        stored(&mut conn, 10).await,
        Some(("reserved".into(), NOW.into())),
        "still reserved: a's restock was undone with the rest"
    );
    // Through the service: an error (500), and the reservation is still whole.
    let r = app
        .http
        .post(app.url("/internal/reservations/10/release"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(stocks(&mut conn, &[a]).await, [3]);
}
