//! Orders created in batches (`order_create_many_v1`, migration 0007, through
//! `storage::insert_many`): each order of a batch is written exactly as the single
//! creation writes it, a key that exists answers `None` without touching the rest of the
//! batch, and any other error undoes the whole batch.

use mall_runtime::trace::{scope, TraceId};
use mysql_async::prelude::Queryable;
use order_service::state::Status;
use order_service::storage::{self, Create, Item};

use crate::storage::{at, db, lines, new, Db};

const TRACE: &str = "0123456789abcdef0123456789abcdef";

/// A new order of `user` under `key` with `lines`, created at `micros`.
fn create(user: u64, key: &str, lines: Vec<Item>, micros: u32) -> Create {
    let total = lines.iter().map(|l| l.line_total).sum();
    Create {
        user_id: user,
        key: key.to_owned(),
        hash: "a".repeat(64),
        currency: "KRW".to_owned(),
        from_cart: user.is_multiple_of(2),
        lines,
        total,
        trace_id: (user == 1).then(|| TRACE.to_owned()),
        at: at(micros),
    }
}

/// user_id, idempotency_key, request_hash, status, total, currency, from_cart, trace_id
type OrderColumns = (
    u64,
    String,
    String,
    String,
    i64,
    String,
    bool,
    Option<String>,
);

/// Everything stored of order `id` but its id: the row, its history and its lines.
async fn stored(db: &Db, id: u64) -> impl PartialEq + std::fmt::Debug {
    let mut conn = db.pool.get_conn().await.unwrap();
    let row: Option<OrderColumns> = conn
        .exec_first(
            "SELECT user_id, idempotency_key, request_hash, status, total, currency, from_cart,
                    trace_id FROM orders WHERE id = ?",
            (id,),
        )
        .await
        .unwrap();
    let order = storage::find(&db.pool, id, None).await.unwrap().unwrap();
    (
        row,
        db.order_row(id).await,
        db.history(id).await,
        order.items,
    )
}

#[tokio::test]
async fn each_order_of_a_batch_is_stored_as_the_single_creation_stores_it() {
    let (batch, single) = (db().await, db().await);
    let one = vec![Item::priced(4, "Tea \"green\" \\ 🍵".into(), 700, 1).unwrap()];
    let orders = vec![
        create(1, "k-1", lines(), 10),
        create(2, "k-2", one.clone(), 20),
        create(3, "k-3", lines(), 30),
    ];

    let ids = storage::insert_many(&batch.pool, &orders).await.unwrap();

    assert_eq!(ids.len(), 3);
    let ids: Vec<u64> = ids.into_iter().map(|id| id.expect("a new key")).collect();
    for (id, o) in ids.iter().zip(&orders) {
        let order = storage::find(&batch.pool, *id, Some(o.user_id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(order.status, Status::Pending);
        assert_eq!(
            (order.items.clone(), order.total),
            (o.lines.clone(), o.total)
        );
        // The same order created alone, by the single procedure, on another database.
        let new_order = storage::NewOrder {
            from_cart: o.from_cart,
            total: o.total,
            ..new(o.user_id, &o.key, &o.hash, &o.lines)
        };
        let alone = match &o.trace_id {
            Some(t) => {
                let trace = TraceId::parse(t).unwrap();
                scope(trace, storage::insert_at(&single.pool, new_order, o.at)).await
            }
            None => storage::insert_at(&single.pool, new_order, o.at).await,
        };
        let alone = alone.unwrap().expect("a new key");
        assert_eq!(
            stored(&batch, *id).await,
            stored(&single, alone).await,
            "{}",
            o.key
        );
    }
}

#[tokio::test]
async fn a_key_that_exists_answers_none_and_the_rest_of_the_batch_is_created() {
    let db = db().await;
    let first = storage::insert_many(&db.pool, &[create(2, "dup-1", lines(), 1)])
        .await
        .unwrap();
    let first = first[0].expect("a new key");

    let orders = [
        create(2, "dup-1", lines(), 2),
        create(2, "dup-2", lines(), 3),
        create(3, "dup-1", lines(), 4),
        create(2, "dup-2", lines(), 5),
    ];
    let ids = storage::insert_many(&db.pool, &orders).await.unwrap();

    assert!(ids[0].is_none(), "committed before the batch");
    assert!(ids[1].is_some() && ids[2].is_some(), "{ids:?}");
    assert!(ids[3].is_none(), "created earlier in the same batch");
    assert_eq!(db.count("orders").await, 3);
    assert_eq!(db.count("order_status_history").await, 3);
    assert_eq!(db.count("order_items").await, 6);
    assert_eq!(db.history(first).await, [("pending".to_owned(), at(1))]);
    let later = db.history(ids[1].unwrap()).await;
    assert_eq!(
        later,
        [("pending".to_owned(), at(3))],
        "the first of the two"
    );
}

#[tokio::test]
async fn an_error_in_one_order_undoes_the_whole_batch() {
    let db = db().await;
    db.sql("ALTER TABLE order_items ADD CONSTRAINT no_nine CHECK (product_id <> 9)")
        .await;
    let clean = vec![Item::priced(4, "ok".into(), 700, 1).unwrap()];
    let orders = [
        create(1, "e-1", clean.clone(), 1),
        create(2, "e-2", lines(), 2),
    ];

    let err = storage::insert_many(&db.pool, &orders)
        .await
        .expect_err("product 9");

    assert!(matches!(err, mysql_async::Error::Server(_)), "{err:?}");
    for table in ["orders", "order_status_history", "order_items"] {
        assert_eq!(db.count(table).await, 0, "{table} rolled back");
    }
    // A product named twice in one order's lines is an error too, not an existing key.
    let twice = vec![clean[0].clone(), clean[0].clone()];
    let orders = [
        create(1, "e-3", clean.clone(), 3),
        create(3, "e-4", twice, 4),
    ];
    let err = storage::insert_many(&db.pool, &orders)
        .await
        .expect_err("twice");
    assert!(err.to_string().contains("twice"), "{err}");
    assert_eq!(db.count("orders").await, 0);
    // And the pool's connection is fit for the next call.
    let ids = storage::insert_many(&db.pool, &[create(1, "e-5", clean, 5)]).await;
    assert!(ids.unwrap()[0].is_some());
}
