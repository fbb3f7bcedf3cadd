//! SQL for the user service's own database.

pub mod refresh;
pub mod users;

pub use mall_runtime::time::{now_naive, rfc3339};

/// The embedded migrations.
pub const MIGRATIONS: &[mall_store::db::Migration] = &[mall_store::db::Migration {
    version: 1,
    name: "users and refresh tokens",
    sql: include_str!("../../migrations/0001_users.sql"),
}];
