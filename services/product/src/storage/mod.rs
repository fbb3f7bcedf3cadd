//! SQL for the catalog's own database.

mod answers;
pub mod products;
pub mod reservations;
pub mod reserve_many;
pub mod stock;

pub use mall_runtime::time::{now_naive, rfc3339};

pub const MIGRATIONS: &[mall_store::db::Migration] = &[
    mall_store::db::Migration {
        version: 1,
        name: "catalog and reservations",
        sql: include_str!("../../migrations/0001_catalog.sql"),
    },
    mall_store::db::Migration {
        version: 2,
        name: "reserve_v1 procedure",
        sql: include_str!("../../migrations/0002_reserve_procedure.sql"),
    },
    mall_store::db::Migration {
        version: 3,
        name: "reservation procedures: reserve_v2, commit, release",
        sql: include_str!("../../migrations/0003_reservation_procedures.sql"),
    },
    mall_store::db::Migration {
        version: 4,
        name: "reservation_commit_many_v1 procedure",
        sql: include_str!("../../migrations/0004_reservation_commit_many.sql"),
    },
    mall_store::db::Migration {
        version: 5,
        name: "reserve_v3 and reservation_commit_many_v2 procedures",
        sql: include_str!("../../migrations/0005_reservation_procedures_v3.sql"),
    },
    mall_store::db::Migration {
        version: 6,
        name: "reserve_many_v1 procedure",
        sql: include_str!("../../migrations/0006_reserve_many.sql"),
    },
];
