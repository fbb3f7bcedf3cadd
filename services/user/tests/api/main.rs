//! Integration tests of the user service: the real `run` on port 0 against a real MariaDB
//! (a database of its own per test, dropped after) and a real Redis (a key prefix of its
//! own per test). Requests carry the identity headers nginx would copy from auth-proxy.
//! deadlocks holds rows of the database itself to make InnoDB pick a victim.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod admin;
mod deadlocks;
mod helpers;
mod limits;
mod sessions;
mod tokens;
