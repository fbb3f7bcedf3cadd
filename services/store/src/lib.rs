//! A mall service's storage, which auth-proxy never links: the store's flags
//! ([`config::StoreArgs`]: database URL and password file, Redis URL and key prefix), the
//! MySQL pool with embedded, checksummed migrations and the helpers every storage module
//! uses ([`db`]), and the Redis connection with its key prefix ([`cache`]).

pub mod batched;
pub mod cache;
pub mod config;
pub mod db;
