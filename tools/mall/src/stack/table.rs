// Generated from mall.toml by `cargo run -p mall-desc -- generate`; do not edit.
//! Every part the stack runs (`mall stack`, scripts/dev), in mall.toml's order
//! (callees before callers).

use super::parts::{Kind, StackPart};

/// Name, kind, executable, port offset (docs/runtime.md), slots, required, database
/// (name and user, before MALL_DB_PREFIX), readiness path, the parts it calls.
pub const STACK_PARTS: [StackPart; 7] = [
    StackPart {
        name: "auth-proxy",
        kind: Kind::Sidecar,
        binary: "auth-proxy",
        port_offset: 0,
        slots: true,
        required: true,
        database: None,
        ready: "/ready",
        calls: &[],
    },
    StackPart {
        name: "user",
        kind: Kind::Service,
        binary: "user-service",
        port_offset: 1,
        slots: true,
        required: true,
        database: Some(("user_db", "user_svc")),
        ready: "/ready",
        calls: &[],
    },
    StackPart {
        name: "product",
        kind: Kind::Service,
        binary: "product-service",
        port_offset: 2,
        slots: true,
        required: false,
        database: Some(("product_db", "product_svc")),
        ready: "/ready",
        calls: &[],
    },
    StackPart {
        name: "cart",
        kind: Kind::Service,
        binary: "cart-service",
        port_offset: 3,
        slots: true,
        required: false,
        database: Some(("cart_db", "cart_svc")),
        ready: "/ready",
        calls: &["product"],
    },
    StackPart {
        name: "order",
        kind: Kind::Service,
        binary: "order-service",
        port_offset: 4,
        slots: true,
        required: false,
        database: Some(("order_db", "order_svc")),
        ready: "/ready",
        calls: &["product", "cart", "payment", "user"],
    },
    StackPart {
        name: "payment",
        kind: Kind::Service,
        binary: "payment-service",
        port_offset: 5,
        slots: true,
        required: false,
        database: Some(("payment_db", "payment_svc")),
        ready: "/ready",
        calls: &[],
    },
    StackPart {
        name: "gateway-sim",
        kind: Kind::StandIn,
        binary: "gateway-sim",
        port_offset: 9,
        slots: false,
        required: false,
        database: None,
        ready: "/ready",
        calls: &[],
    },
];
