//! End-to-end tests: they drive the running stack through nginx only (`MALL_URL`), the way
//! a shopper or an admin would. `scripts/test` starts a private stack with `scripts/dev`,
//! exports `MALL_URL`, `MALL_ADMIN_EMAIL`, `MALL_ADMIN_PASSWORD` and `MALL_LOG_DIR`, runs
//! these, and stops it again. Every test makes its own users (unique emails), so they run
//! in parallel.

mod helpers;

mod admin;
mod edge;
mod errors;
mod logs;
mod sessions;
mod tokens;
mod users;
