// Generated from mall.toml by `cargo run -p mall-desc -- generate`; do not edit.
//! Every public route of mall.toml as (method, path pattern): a service's 405 names
//! the methods of its path in `Allow` (RFC 9110). `{name}` is one path segment.

pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/api/users/register"),
    ("POST", "/api/users/login"),
    ("POST", "/api/users/refresh"),
    ("POST", "/api/users/logout"),
    ("GET", "/api/users/me"),
    ("GET", "/api/products"),
    ("POST", "/api/products"),
    ("GET", "/api/products/{id}"),
    ("PUT", "/api/products/{id}"),
    ("DELETE", "/api/products/{id}"),
    ("PATCH", "/api/products/{id}/stock"),
    ("GET", "/api/categories"),
    ("GET", "/api/cart"),
    ("DELETE", "/api/cart"),
    ("PUT", "/api/cart/items/{product_id}"),
    ("DELETE", "/api/cart/items/{product_id}"),
    ("GET", "/api/orders"),
    ("POST", "/api/orders"),
    ("GET", "/api/orders/{id}"),
    ("POST", "/api/orders/{id}/cancel"),
    ("GET", "/api/payments/{id}"),
    ("GET", "/api/admin/users"),
    ("PUT", "/api/admin/users/{id}/roles"),
    ("POST", "/api/admin/users/{id}/revoke-sessions"),
    ("GET", "/api/admin/orders"),
    ("GET", "/api/admin/stats"),
];
