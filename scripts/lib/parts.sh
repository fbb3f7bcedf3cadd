#!/usr/bin/env bash
# Generated from mall.toml by `cargo run -p mall-desc -- generate`; do not edit.
# The mall's parts for the local runtime (sourced by scripts/lib/stack.sh).
# shellcheck disable=SC2034  # used by the scripts that source this file

# Every service `up` may start: name, binary, port offset (docs/runtime.md), whether it
# has a database, and its slot (blue, or "-" for a part without slots).
SERVICES=(
    "user         user-service     1  db  blue"
    "product      product-service  2  db  blue"
    "cart         cart-service     3  db  blue"
    "order        order-service    4  db  blue"
    "payment      payment-service  5  db  blue"
    "gateway-sim  gateway-sim      9  -   -"
)
# What `up` starts unless MALL_SERVICES says otherwise: every service above.
DEFAULT_SERVICES="user product cart order payment gateway-sim"
# Parts nginx proxies to: each gets upstreams/<part>.conf, whether it runs or not. These
# are also the parts scripts/blue-green switches.
UPSTREAM_PARTS=(auth-proxy user product cart order payment)
# Parts the local stack does not start without.
REQUIRED_PARTS=(auth-proxy user)
# The sidecar, started with every stack: its port offset.
AUTH_PROXY_PORT_OFFSET=0
