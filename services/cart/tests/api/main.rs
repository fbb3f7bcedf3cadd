//! Integration tests of the cart service with a real product service beside it (both
//! in-process on port 0, each with a database of its own) and a real Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cart;
mod helpers;
