//! Integration tests of the payment service: the real `run` on port 0 against a real
//! MariaDB (a database per test) and a real card gateway simulator (in-process on port 0,
//! its own per test), driven over HTTP. Every log line of the binary is captured, so tests
//! can check what was (and was not) logged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod batches;
mod charges;
mod helpers;
mod logs;
mod public;
mod reconcile;
mod refunds;
