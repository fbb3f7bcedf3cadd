//! Integration tests: the proxy runs in-process on port 0 against a tiny JWKS server and
//! the real Redis (each test with its own key prefix); `process` drives the built binary.

// Test helpers state what they expect with expect(): a failed setup step fails the test.
#![allow(clippy::expect_used)]

mod access;
mod helpers;
mod keys;
mod ops;
mod process;
mod revocation;
mod validation;
