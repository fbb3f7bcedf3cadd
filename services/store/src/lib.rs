//! A mall service's storage, which auth-proxy never links: the store's flags
//! ([`config::StoreArgs`]: database URL and password file, Redis URL and key prefix), the
//! MySQL pool with embedded, checksummed migrations and the helpers every storage module
//! uses ([`db`]; a deadlock's victim run again: [`deadlock`]), the Redis connection with its key prefix ([`cache`]), and the follower of a Redis
//! channel that keeps an in-memory copy current ([`feed`]).

pub mod batched;
pub mod cache;
pub mod config;
pub mod db;
pub mod deadlock;
pub mod feed;
