//! SQL for the user service's own database.

pub mod refresh;
pub mod users;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Timestamps are stored as UTC `DATETIME(6)` written by the service (never the server's
/// time zone).
pub fn now_naive() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The embedded migrations.
pub const MIGRATIONS: &[mall_common::db::Migration] = &[mall_common::db::Migration {
    version: 1,
    name: "users and refresh tokens",
    sql: include_str!("../../migrations/0001_users.sql"),
}];
