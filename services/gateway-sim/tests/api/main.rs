//! Integration tests of the card gateway simulator: the real `run` on port 0, driven over
//! HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod charges;
mod control;
mod helpers;
