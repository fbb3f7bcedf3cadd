//! Calls to systems outside this service.

pub mod gateway;
