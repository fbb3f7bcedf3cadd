//! Integration tests of the product service: the real `run` on port 0 against a real
//! MariaDB (own database per test) and a real Redis (own prefix; one test runs its own
//! redis-server to stop and restart it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod catalog;
mod deadlocks;
mod helpers;
mod outage;
mod prices;
mod reservation_answers;
mod reservation_batches;
mod reservation_commits;
mod reservation_procedures;
mod reservation_rule;
mod reservations;
