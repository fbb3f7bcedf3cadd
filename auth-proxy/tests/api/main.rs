//! Integration tests: the proxy runs in-process on port 0 against a tiny JWKS server and
//! the real Redis (each test with its own key prefix); `process` drives the built binary.

mod access;
mod helpers;
mod keys;
mod ops;
mod process;
mod revocation;
mod validation;
