// Generated from mall.toml by `cargo run -p mall-desc -- generate`; do not edit.
//! The parts `deploy` and `rollback` switch: mall.toml's parts with slots, in its order
//! (callees before callers).

use super::Part;

/// Name, executable, port offset (docs/runtime.md), whether it has a database.
pub const PARTS: [Part; 6] = [
    Part::new("auth-proxy", "auth-proxy", 0, false),
    Part::new("user", "user-service", 1, true),
    Part::new("product", "product-service", 2, true),
    Part::new("cart", "cart-service", 3, true),
    Part::new("order", "order-service", 4, true),
    Part::new("payment", "payment-service", 5, true),
];
