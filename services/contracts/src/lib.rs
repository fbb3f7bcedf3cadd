//! The service-to-service contracts: for every internal call, the request and answer types
//! that the serving route and the calling service both compile against (a renamed field
//! is a compile error on both sides), and a typed client per callee that makes the call
//! through [`ServiceClient`] (base URL, timeouts, the request's trace id). A refusal the
//! caller acts on is a typed outcome read from a field of the error body, never from the
//! message's text (product's `out_of_stock`).
//!
//! | callee | calls | client |
//! |---|---|---|
//! | product | products by id, prices (cached or read fresh), stats, reserve, commit, release | [`product::ProductClient`] |
//! | (feed) | the catalog's changes, published by product on Redis | [`catalog_changes`] |
//! | cart | a user's priced cart, clear it | [`cart::CartClient`] |
//! | payment | charge, the payment of an order, refund | [`payment::PaymentClient`] |
//! | user | stats | [`user::UserClient`] |

pub mod cart;
pub mod catalog_changes;
pub mod client;
pub mod payment;
pub mod product;
pub mod user;

pub use client::{ServiceClient, Target};
