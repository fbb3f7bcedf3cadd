//! End-to-end tests: they drive the running stack through nginx only (`MALL_URL`), the way
//! a shopper or an admin would. `scripts/test` starts a private stack with `scripts/dev`,
//! exports `MALL_URL`, `MALL_ADMIN_EMAIL`, `MALL_ADMIN_PASSWORD`, `MALL_LOG_DIR`, `MALL_VAR`
//! and `MALL_USER_SERVICE_BIN` (for the key rotation), runs these, and stops it again. Every
//! test makes its own users (unique emails) and products (unique names and categories), so
//! they run in parallel; none depends on which key signs tokens (rotation changes it).

// Tests state what they expect with expect(): a failed step fails the test, with the reason.
#![allow(clippy::expect_used)]

mod helpers;

mod admin;
mod adversarial_bounds;
mod adversarial_currency;
mod adversarial_edge;
mod adversarial_email;
mod adversarial_known;
mod adversarial_lockout;
mod adversarial_logout;
mod adversarial_outage;
mod cart;
mod catalog;
mod checkout;
mod contract;
mod crash;
mod edge;
mod errors;
mod forwarded;
mod logs;
mod paths;
mod rotation;
mod routes;
mod sessions;
mod tokens;
mod trace;
mod users;
