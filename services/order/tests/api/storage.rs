//! The two writes that change an order's status, called directly on a migrated database of
//! the test's own: creating an order with its lines and moving it between statuses (the
//! procedures `order_create_v2` of migration 0004 and `order_transition` of migration 0003)
//! write the order row, its lines and its history together or not at all, at the time the
//! caller passes.

use chrono::{NaiveDate, NaiveDateTime};
use mall_testkit::TestDb;
use mysql_async::prelude::Queryable;
use mysql_async::Pool;
use order_service::state::{FailureReason, Status, Transition};
use order_service::storage::{self, Item, NewOrder};

/// The order service's database, migrated as the service migrates it at start-up.
pub(crate) struct Db {
    pub(crate) pool: Pool,
    _db: TestDb,
}

pub(crate) async fn db() -> Db {
    let db = TestDb::create("order").await.unwrap();
    let pool = mall_store::db::open(&db.url, storage::MIGRATIONS)
        .await
        .unwrap();
    Db { pool, _db: db }
}

/// 2030-01-02 03:04:05 plus `micros` (DATETIME(6) keeps microseconds).
pub(crate) fn at(micros: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2030, 1, 2)
        .unwrap()
        .and_hms_micro_opt(3, 4, 5, micros)
        .unwrap()
}

/// status, failure_reason, payment_id, request_hash, created_at, updated_at
pub(crate) type OrderRow = (
    String,
    Option<String>,
    Option<u64>,
    String,
    NaiveDateTime,
    NaiveDateTime,
);

/// Two lines (one name beyond ASCII, beyond the BMP too) totalling 3 × 1,500 + 2 × 250.
pub(crate) fn lines() -> Vec<Item> {
    vec![
        Item::priced(3, "Café ☕ 𝄞".into(), 1_500, 3).unwrap(),
        Item::priced(9, "plain".into(), 250, 2).unwrap(),
    ]
}

/// A new KRW order of `user` under `key` with `lines`, not from the cart.
pub(crate) fn new<'a>(user: u64, key: &'a str, hash: &'a str, lines: &'a [Item]) -> NewOrder<'a> {
    NewOrder {
        user_id: user,
        key,
        hash,
        currency: "KRW",
        from_cart: false,
        lines,
        total: 5_000,
    }
}

impl Db {
    async fn new_order(&self, user: u64, key: &str, t: NaiveDateTime) -> u64 {
        let (hash, lines) = ("a".repeat(64), lines());
        storage::insert_at(&self.pool, new(user, key, &hash, &lines), t)
            .await
            .unwrap()
            .expect("a new key")
    }

    pub(crate) async fn order_row(&self, id: u64) -> Option<OrderRow> {
        let mut conn = self.pool.get_conn().await.unwrap();
        conn.exec_first(
            "SELECT status, failure_reason, payment_id, request_hash, created_at, updated_at
             FROM orders WHERE id = ?",
            (id,),
        )
        .await
        .unwrap()
    }

    pub(crate) async fn history(&self, id: u64) -> Vec<(String, NaiveDateTime)> {
        let mut conn = self.pool.get_conn().await.unwrap();
        conn.exec(
            "SELECT status, at FROM order_status_history WHERE order_id = ? ORDER BY id",
            (id,),
        )
        .await
        .unwrap()
    }

    pub(crate) async fn count(&self, table: &str) -> u64 {
        let mut conn = self.pool.get_conn().await.unwrap();
        let n: Option<u64> = conn
            .query_first(format!("SELECT COUNT(*) FROM {table}"))
            .await
            .unwrap();
        n.unwrap()
    }

    pub(crate) async fn sql(&self, sql: &str) {
        let mut conn = self.pool.get_conn().await.unwrap();
        conn.query_drop(sql).await.unwrap();
    }
}

#[tokio::test]
async fn a_new_order_is_pending_with_one_history_row_at_the_time_given() {
    let db = db().await;

    let id = db.new_order(1, "new-1", at(111_111)).await;

    let (status, reason, payment, _, created, updated) = db.order_row(id).await.unwrap();
    assert_eq!((status.as_str(), reason, payment), ("pending", None, None));
    assert_eq!((created, updated), (at(111_111), at(111_111)));
    assert_eq!(db.history(id).await, [("pending".to_owned(), at(111_111))]);
}

#[tokio::test]
async fn a_new_order_is_created_with_its_lines_and_total_as_a_read_shows_them() {
    let db = db().await;

    let id = db.new_order(4, "lines-1", at(7)).await;

    let order = storage::find(&db.pool, id, Some(4)).await.unwrap().unwrap();
    assert_eq!(order.items, lines());
    assert_eq!((order.total, order.currency.as_str()), (5_000, "KRW"));
    assert_eq!(order.status, Status::Pending);
}

#[tokio::test]
async fn an_error_in_the_lines_rolls_the_whole_creation_back() {
    let db = db().await;
    // The lines' INSERT, the procedure's third write, now fails.
    db.sql("ALTER TABLE order_items ADD CONSTRAINT no_nine CHECK (product_id <> 9)")
        .await;

    let (hash, lines) = ("a".repeat(64), lines());
    let created = storage::insert_at(&db.pool, new(5, "err-9", &hash, &lines), at(1)).await;

    let err = created.expect_err("the second line was refused");
    assert!(matches!(err, mysql_async::Error::Server(_)), "{err:?}");
    assert!(!mall_store::db::is_duplicate_key(&err));
    for table in ["orders", "order_status_history", "order_items"] {
        assert_eq!(db.count(table).await, 0, "{table} rolled back");
    }
}

#[tokio::test]
async fn a_duplicate_key_answers_none_and_writes_no_order_and_no_history() {
    let db = db().await;
    let id = db.new_order(2, "dup-1", at(1)).await;

    let (other_hash, lines) = ("b".repeat(64), lines());
    let again = storage::insert_at(&db.pool, new(2, "dup-1", &other_hash, &lines), at(2))
        .await
        .unwrap();

    assert_eq!(again, None);
    assert_eq!(db.count("orders").await, 1);
    assert_eq!(db.count("order_status_history").await, 1);
    assert_eq!(db.count("order_items").await, 2);
    let (_, _, _, hash, _, updated) = db.order_row(id).await.unwrap();
    assert_eq!(
        (hash, updated),
        ("a".repeat(64), at(1)),
        "first order untouched"
    );
    // The same key under another user is another order.
    assert!(
        storage::insert_at(&db.pool, new(3, "dup-1", &"a".repeat(64), &lines), at(3))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_transition_from_another_status_changes_nothing_and_writes_no_history() {
    let db = db().await;
    let id = db.new_order(4, "wrong-1", at(10)).await;
    let before = db.order_row(id).await;

    // paid → cancelled, asked of a pending order.
    let changed = storage::transition_at(&db.pool, id, Transition::Cancel, at(20))
        .await
        .unwrap();

    assert!(!changed);
    assert_eq!(db.order_row(id).await, before);
    assert_eq!(db.history(id).await, [("pending".to_owned(), at(10))]);
    // The procedure compares statuses exactly (ascii_bin), as the columns do: asked
    // directly with another spelling (the Rust side can only send `state`'s names).
    db.sql(&format!(
        "CALL order_transition({id}, 'PENDING', 'paid', 'whatever', 99, '2030-01-02 03:04:05.000021')"
    ))
    .await;
    assert_eq!(db.order_row(id).await, before);
    assert!(
        !storage::transition_at(&db.pool, id + 1, Transition::Pay { payment_id: 1 }, at(22))
            .await
            .unwrap(),
        "no such order"
    );
    assert_eq!(db.count("order_status_history").await, 1);
}

#[tokio::test]
async fn a_transition_writes_one_history_row_at_the_time_given() {
    let db = db().await;
    let id = db.new_order(5, "move-1", at(100)).await;

    let declined = Transition::Fail {
        reason: FailureReason::PaymentDeclined,
        payment_id: Some(42),
    };
    let changed = storage::transition_at(&db.pool, id, declined, at(200_002))
        .await
        .unwrap();

    assert!(changed);
    let (status, reason, payment, _, created, updated) = db.order_row(id).await.unwrap();
    assert_eq!(status, "failed");
    assert_eq!(reason.as_deref(), Some("payment_declined"));
    assert_eq!(payment, Some(42));
    assert_eq!((created, updated), (at(100), at(200_002)));
    assert_eq!(
        db.history(id).await,
        [
            ("pending".to_owned(), at(100)),
            ("failed".to_owned(), at(200_002))
        ]
    );
    assert!(
        !storage::transition_at(
            &db.pool,
            id,
            Transition::fail(FailureReason::NotCharged),
            at(300)
        )
        .await
        .unwrap(),
        "a second settler loses"
    );
    assert_eq!(db.history(id).await.len(), 2);
}

#[tokio::test]
async fn a_transition_keeps_the_reason_and_payment_it_is_not_given() {
    let db = db().await;
    let id = db.new_order(6, "keep-1", at(1)).await;
    assert!(
        storage::transition_at(&db.pool, id, Transition::Pay { payment_id: 7 }, at(2))
            .await
            .unwrap()
    );
    db.sql(&format!(
        "UPDATE orders SET failure_reason = 'earlier' WHERE id = {id}"
    ))
    .await;

    assert!(
        storage::transition_at(&db.pool, id, Transition::Cancel, at(3))
            .await
            .unwrap()
    );

    let (status, reason, payment, ..) = db.order_row(id).await.unwrap();
    assert_eq!(status, "cancelled");
    assert_eq!(reason.as_deref(), Some("earlier"));
    assert_eq!(payment, Some(7));
}

#[tokio::test]
async fn the_history_of_a_paid_order_reads_pending_then_paid() {
    let db = db().await;
    let id = db.new_order(7, "paid-1", at(500)).await;
    assert!(
        storage::transition_at(&db.pool, id, Transition::Pay { payment_id: 8 }, at(600))
            .await
            .unwrap()
    );

    let order = storage::find(&db.pool, id, Some(7)).await.unwrap().unwrap();

    assert_eq!(order.status, Status::Paid);
    assert_eq!(order.payment_id, Some(8));
    let history: Vec<&str> = order
        .status_history
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.status.as_str())
        .collect();
    assert_eq!(history, ["pending", "paid"]);
    assert_eq!(
        db.history(id).await,
        [
            ("pending".to_owned(), at(500)),
            ("paid".to_owned(), at(600))
        ]
    );
}

#[tokio::test]
async fn an_error_after_the_order_row_rolls_the_creation_back_and_reaches_the_caller() {
    let db = db().await;
    // The history INSERT, the procedure's second write, now fails.
    db.sql(
        "ALTER TABLE order_status_history ADD CONSTRAINT no_pending CHECK (status <> 'pending')",
    )
    .await;

    let (hash, lines) = ("a".repeat(64), lines());
    let created = storage::insert_at(&db.pool, new(8, "err-1", &hash, &lines), at(1)).await;

    let err = created.expect_err("the history row was refused");
    assert!(matches!(err, mysql_async::Error::Server(_)), "{err:?}");
    assert!(!mall_store::db::is_duplicate_key(&err));
    assert_eq!(db.count("orders").await, 0, "the order row rolled back");
    // Nothing is left open on the pooled connection for the next call to commit.
    db.sql("ALTER TABLE order_status_history DROP CONSTRAINT no_pending")
        .await;
    db.new_order(8, "err-2", at(2)).await;
    assert_eq!(db.count("orders").await, 1);
    assert_eq!(db.count("order_status_history").await, 1);
}

#[tokio::test]
async fn an_error_after_the_update_rolls_the_transition_back_and_reaches_the_caller() {
    let db = db().await;
    let id = db.new_order(9, "err-3", at(1)).await;
    db.sql("ALTER TABLE order_status_history ADD CONSTRAINT no_paid CHECK (status <> 'paid')")
        .await;

    let moved =
        storage::transition_at(&db.pool, id, Transition::Pay { payment_id: 5 }, at(2)).await;

    let err = moved.expect_err("the history row was refused");
    assert!(matches!(err, mysql_async::Error::Server(_)), "{err:?}");
    let (status, _, payment, _, _, updated) = db.order_row(id).await.unwrap();
    assert_eq!(
        (status.as_str(), payment, updated),
        ("pending", None, at(1))
    );
    assert_eq!(db.history(id).await, [("pending".to_owned(), at(1))]);
}

/// `order_transition_many_v1` (migration 0005): several orders' moves in one call do
/// for each what `order_transition` does, in the order given.
#[tokio::test]
async fn a_batch_of_moves_does_for_each_order_what_its_own_move_does() {
    let db = db().await;
    let paid = db.new_order(10, "many-1", at(1)).await;
    let refused = db.new_order(11, "many-2", at(1)).await;
    let declined = db.new_order(12, "many-3", at(1)).await;
    let twice = db.new_order(13, "many-4", at(1)).await;
    let m = |order_id, change, t| storage::Move {
        order_id,
        change,
        at: at(t),
    };

    let changed = storage::transition_many(
        &db.pool,
        &[
            m(paid, Transition::Pay { payment_id: 70 }, 10),
            m(refused, Transition::Cancel, 11),
            m(
                declined,
                Transition::Fail {
                    reason: FailureReason::PaymentDeclined,
                    payment_id: Some(71),
                },
                12,
            ),
            m(twice, Transition::Pay { payment_id: 72 }, 13),
            m(twice, Transition::Pay { payment_id: 73 }, 14),
            m(twice + 100, Transition::Pay { payment_id: 74 }, 15),
        ],
    )
    .await
    .unwrap();

    assert_eq!(changed, [true, false, true, true, false, false]);
    let row = |r: Option<OrderRow>| {
        let (status, reason, payment, _, _, updated) = r.unwrap();
        (status, reason, payment, updated)
    };
    assert_eq!(
        row(db.order_row(paid).await),
        ("paid".into(), None, Some(70), at(10))
    );
    assert_eq!(
        row(db.order_row(refused).await),
        ("pending".into(), None, None, at(1)),
        "a move from another status changes nothing"
    );
    assert_eq!(
        row(db.order_row(declined).await),
        (
            "failed".into(),
            Some("payment_declined".into()),
            Some(71),
            at(12)
        )
    );
    assert_eq!(
        row(db.order_row(twice).await),
        ("paid".into(), None, Some(72), at(13)),
        "the second move of one order saw the first"
    );
    assert_eq!(
        db.history(paid).await,
        [("pending".to_owned(), at(1)), ("paid".to_owned(), at(10))]
    );
    assert_eq!(db.history(refused).await.len(), 1);
    assert_eq!(db.history(twice).await.len(), 2);
    assert_eq!(db.count("order_status_history").await, 4 + 3);
}

#[tokio::test]
async fn an_error_in_one_move_of_a_batch_rolls_every_move_back() {
    let db = db().await;
    let first = db.new_order(20, "batch-err-1", at(1)).await;
    let second = db.new_order(21, "batch-err-2", at(1)).await;
    // The second move's history row is refused; the first move, already made inside the
    // same transaction, must not survive it.
    db.sql(&format!(
        "ALTER TABLE order_status_history ADD CONSTRAINT no_second CHECK (order_id <> {second} OR status <> 'paid')"
    ))
    .await;

    let moved = storage::transition_many(
        &db.pool,
        &[
            storage::Move {
                order_id: first,
                change: Transition::Pay { payment_id: 1 },
                at: at(2),
            },
            storage::Move {
                order_id: second,
                change: Transition::Pay { payment_id: 2 },
                at: at(3),
            },
        ],
    )
    .await;

    let err = moved.expect_err("the second history row was refused");
    assert!(matches!(err, mysql_async::Error::Server(_)), "{err:?}");
    for id in [first, second] {
        assert_eq!(db.order_row(id).await.unwrap().0, "pending");
        assert_eq!(db.history(id).await.len(), 1);
    }
}

/// A transition InnoDB picks as a deadlock's victim runs again (`mall_store::deadlock`)
/// instead of failing the checkout. The test makes the deadlock on purpose: its own
/// transaction changes another order 50 times (InnoDB rolls back the transaction that
/// changed fewer rows: the call) and locks the gap where the order's next history row
/// goes; the call updates the order row and waits to insert that row; the test's
/// transaction then asks for the order row, which closes the cycle.
#[tokio::test]
async fn a_transition_chosen_as_a_deadlocks_victim_runs_again() {
    let db = db().await;
    let id = db.new_order(5, "victim-1", at(10)).await;
    let other = db.new_order(5, "victim-2", at(11)).await;

    let mut holder = db.pool.get_conn().await.unwrap();
    holder.query_drop("START TRANSACTION").await.unwrap();
    for n in 0..50 {
        holder
            .exec_drop(
                "UPDATE orders SET updated_at = ? WHERE id = ?",
                (at(100 + n), other),
            )
            .await
            .unwrap();
    }
    let held: Vec<u64> = holder
        .exec(
            "SELECT id FROM order_status_history WHERE order_id = ? FOR UPDATE",
            (id,),
        )
        .await
        .unwrap();
    assert_eq!(held.len(), 1);

    let pool = db.pool.clone();
    let call = tokio::spawn(async move {
        storage::transition_at(&pool, id, Transition::Pay { payment_id: 9 }, at(200)).await
    });
    mall_testkit::until_a_statement_runs(&db.pool, "INSERT INTO order_status_history%").await;
    let status: Option<String> = holder
        .exec_first("SELECT status FROM orders WHERE id = ? FOR UPDATE", (id,))
        .await
        .expect("InnoDB rolled back the call, not the heavier holder");
    assert_eq!(
        status.as_deref(),
        Some("pending"),
        "the victim left nothing"
    );
    holder.query_drop("COMMIT").await.unwrap();

    assert!(call.await.unwrap().expect("the victim ran again"));
    let row = db.order_row(id).await.unwrap();
    assert_eq!((row.0.as_str(), row.2), ("paid", Some(9)));
    assert_eq!(
        db.history(id).await,
        [("pending".to_owned(), at(10)), ("paid".to_owned(), at(200))]
    );
}
