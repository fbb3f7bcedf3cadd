//! SQL for the catalog's own database.

pub mod products;
pub mod reservations;

use chrono::{DateTime, NaiveDateTime, Utc};

pub fn now_naive() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub const MIGRATIONS: &[mall_common::db::Migration] = &[mall_common::db::Migration {
    version: 1,
    name: "catalog and reservations",
    sql: include_str!("../../migrations/0001_catalog.sql"),
}];
