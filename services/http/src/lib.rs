//! What a mall service's HTTP side shares, so no service copies it: its flags
//! ([`config::ServiceArgs`]: the runtime's and the store's), the standard error body and the
//! one error trait every service's error enum implements ([`error`]), warp filters (strict
//! JSON bodies, path ids, identity headers, paging: [`filters`]), the contract's limits,
//! `/health` `/ready` `/metrics` ([`ops`]), and serving a warp filter on the runtime's loop
//! with the trace id, request span, metrics and access line of every request ([`server`]).

pub mod config;
pub mod error;
pub mod filters;
pub mod limits;
pub mod ops;
pub mod server;
