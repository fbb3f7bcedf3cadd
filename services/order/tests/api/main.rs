//! Integration tests of the order service: the real catalog, cart, payment service and
//! card gateway simulator run in-process beside it (each on port 0, each service with a
//! database of its own). The happy paths and the concurrency cases of the saga are the
//! end-to-end tests' (e2e/tests/api/checkout.rs); these check what a checkout and its
//! retries answer (checkout), and restart the order service the way a crash would and
//! watch reconciliation settle what was left (recovery). The storage tests call the status
//! writes (stored procedures) directly on a database of their own (storage).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod checkout;
mod creates;
mod helpers;
mod recovery;
mod storage;
