#!/usr/bin/env bash
# The local stack's shape as scripts/test and scripts/bench still read it (sourced, after
# common.sh and db.sh): configuration, the parts and their ports, each part's environment
# and starting one process into a slot (bench catalog's cache-off green slot).
# `scripts/dev` and the local blue/green runtime do this in Rust (tools/mall/src/stack/);
# keep the two environments alike until the benchmarks are ported.
# shellcheck disable=SC2034  # variables here are used by the scripts that source this file

# --- configuration -------------------------------------------------------------------

load_config() {
    MALL_VAR="${MALL_VAR:-var}"
    [[ "$MALL_VAR" == /* ]] || MALL_VAR="$MALL_ROOT/$MALL_VAR"
    MALL_HTTP_PORT="${MALL_HTTP_PORT:-8080}"
    MALL_PORT_BASE="${MALL_PORT_BASE:-8100}"
    MALL_INTERNAL_PORT="${MALL_INTERNAL_PORT:-$((MALL_HTTP_PORT + 1))}"
    MALL_PROFILE="${MALL_PROFILE:-debug}"
    MALL_SERVICES="${MALL_SERVICES:-$DEFAULT_SERVICES}"
    MALL_DB_PREFIX="${MALL_DB_PREFIX:-}"
    REDIS_PREFIX="${REDIS_PREFIX:-mall:}"
    MALL_LOGIN_RATE="${MALL_LOGIN_RATE:-10r/s}"
    MALL_LOGIN_BURST="${MALL_LOGIN_BURST:-20}"
    MALL_MYSQL_HOST="${MALL_MYSQL_HOST:-127.0.0.1}"
    MALL_MYSQL_PORT="${MALL_MYSQL_PORT:-3306}"
    MALL_MYSQL_ROOT_USER="${MALL_MYSQL_ROOT_USER:-root}"
    MALL_REDIS_URL="${MALL_REDIS_URL:-redis://127.0.0.1:6379/0}"
    MALL_ADMIN_EMAIL="${MALL_ADMIN_EMAIL:-admin@mall.local}"
    MALL_READY_TIMEOUT="${MALL_READY_TIMEOUT:-90}"
    BIN_DIR="${CARGO_TARGET_DIR:-$MALL_ROOT/target}/$MALL_PROFILE"
    RUN_DIR="$MALL_VAR/run"
    LOG_DIR="$MALL_VAR/log"
    SECRETS_DIR="$MALL_VAR/secrets"
    NGINX_DIR="$MALL_VAR/nginx"

    [[ "$MALL_PROFILE" == debug || "$MALL_PROFILE" == release ]] ||
        die "MALL_PROFILE must be debug or release, not ${MALL_PROFILE}"
    [[ "$MALL_DB_PREFIX" =~ ^[a-z0-9_]*$ ]] ||
        die "MALL_DB_PREFIX may hold only a-z, 0-9 and _ (it names databases and users)"
    [[ "$MALL_HTTP_PORT" =~ ^[0-9]+$ && "$MALL_PORT_BASE" =~ ^[0-9]+$ ]] ||
        die "MALL_HTTP_PORT and MALL_PORT_BASE must be numbers"
    [[ "$MALL_LOGIN_RATE" =~ ^[0-9]+r/[sm]$ ]] || die "MALL_LOGIN_RATE must look like 10r/s or 60r/m"
}

# --- the parts -------------------------------------------------------------------------

# The parts (SERVICES, DEFAULT_SERVICES, UPSTREAM_PARTS, REQUIRED_PARTS,
# AUTH_PROXY_PORT_OFFSET) are generated from mall.toml, the one description of the mall:
# adding a service is an entry there and `cargo run -p mall-desc -- generate` (plus an
# env_<name> function below if it needs more than the common variables).
# shellcheck source=scripts/lib/parts.sh
source "$MALL_ROOT/scripts/lib/parts.sh"

# service_row <name>: prints "binary offset db slot" for a service, fails for an unknown one.
service_row() {
    local row name rest
    for row in "${SERVICES[@]}"; do
        read -r name rest <<<"$row"
        if [[ "$name" == "$1" ]]; then
            printf '%s\n' "$rest"
            return 0
        fi
    done
    return 1
}

# binary_of <part>: the executable of a part (auth-proxy, nginx, or a service).
binary_of() {
    local row binary _rest
    case "$1" in
        nginx) echo nginx ;;
        auth-proxy) echo auth-proxy ;;
        *)
            row="$(service_row "$1")" || return 1
            read -r binary _rest <<<"$row"
            echo "$binary"
            ;;
    esac
}

# port_of <part> <slot>
port_of() {
    local part="$1" slot="$2" row offset _binary _rest
    case "$part" in
        nginx) echo "$MALL_HTTP_PORT"; return ;;
        auth-proxy) offset="$AUTH_PROXY_PORT_OFFSET" ;;
        *)
            row="$(service_row "$part")" || return 1
            read -r _binary offset _rest <<<"$row"
            ;;
    esac
    if [[ "$slot" == green ]]; then
        offset=$((offset + 100))
    fi
    echo $((MALL_PORT_BASE + offset))
}

# instance <part> <slot>: "user-blue", or "gateway-sim" for a part without slots; names the
# pid file and the log file.
instance() {
    if [[ "$2" == "-" ]]; then echo "$1"; else echo "$1-$2"; fi
}

# --- per-service environment ---------------------------------------------------------------
# env_<name> functions append to the caller's `envs` array.

env_auth_proxy() {
    local user_blue user_green
    user_blue="$(port_of user blue)"
    user_green="$(port_of user green)"
    envs+=(
        "AUTH_JWKS_URLS=http://127.0.0.1:${user_blue}/.well-known/jwks.json,http://127.0.0.1:${user_green}/.well-known/jwks.json"
        "AUTH_POLICY_FILE=$MALL_ROOT/auth-proxy/policy.toml"
    )
}

env_product() {
    envs+=("SEED_DEMO_CATALOG=true")
}

env_cart() {
    envs+=("PRODUCT_URL=http://127.0.0.1:${MALL_INTERNAL_PORT}")
}

env_order() {
    envs+=(
        "PRODUCT_URL=http://127.0.0.1:${MALL_INTERNAL_PORT}"
        "CART_URL=http://127.0.0.1:${MALL_INTERNAL_PORT}"
        "PAYMENT_URL=http://127.0.0.1:${MALL_INTERNAL_PORT}"
        "USER_URL=http://127.0.0.1:${MALL_INTERNAL_PORT}"
    )
}

env_payment() {
    envs+=("GATEWAY_URL=http://127.0.0.1:$(port_of gateway-sim -)")
}

env_user() {
    envs+=(
        "JWT_KEYS_DIR=$MALL_VAR/keys/user"
        "JWT_GENERATE_KEY=true"
        "BOOTSTRAP_ADMIN_EMAIL=$MALL_ADMIN_EMAIL"
        "BOOTSTRAP_ADMIN_PASSWORD_FILE=$SECRETS_DIR/admin-password"
    )
}

# --- secrets -------------------------------------------------------------------------------

# secret <name>: the content of var/secrets/<name>, generated (mode 600) on first use.
secret() {
    local file="$SECRETS_DIR/$1"
    if [[ ! -s "$file" ]]; then
        (
            umask 077
            random_hex 16 >"$file.tmp"
            mv -f "$file.tmp" "$file"
        )
    fi
    chmod 600 "$file"
    tr -d '\n' <"$file"
}

# --- starting and stopping -------------------------------------------------------------------

# launch_part <name> <slot> <port> <db> <executable> [VAR=value...]: starts one process in
# its own session (Ctrl-C in the terminal that started it does not reach it), output
# appended to $LOG_DIR/<instance>.log, pid recorded in $RUN_DIR/<instance>.pid (which is
# what `scripts/dev down` stops). The environment is the one docs/runtime.md gives the
# part; the extra VAR=value pairs come last and so override it. Sets LAUNCHED_PID.
launch_part() {
    local name="$1" slot="$2" port="$3" db="$4" exe="$5" inst hook
    shift 5
    inst="$(instance "$name" "$slot")"
    local -a envs=(
        "LISTEN_ADDR=127.0.0.1:${port}"
        "REDIS_URL=${MALL_REDIS_URL}"
        "REDIS_PREFIX=${REDIS_PREFIX}"
        "RUST_LOG=${RUST_LOG:-info}"
        # tokio's own variable: worker threads per part (docs/runtime.md). One each by
        # default: every part shares this host's cores, and one thread per part measured
        # cheaper and faster than one per core (docs/performance.md, "Shopper mix").
        "TOKIO_WORKER_THREADS=${MALL_WORKER_THREADS:-1}"
    )
    [[ "$slot" != "-" ]] && envs+=("SLOT_COLOR=${slot}")
    if [[ "$db" == db ]]; then
        envs+=("DATABASE_URL=mysql://$(db_user "$MALL_DB_PREFIX" "$name"):$(secret "db-${name}-password")@${MALL_MYSQL_HOST}:${MALL_MYSQL_PORT}/$(db_name "$MALL_DB_PREFIX" "$name")")
    fi
    hook="env_${name//-/_}"
    if declare -F "$hook" >/dev/null; then
        "$hook"
    fi
    envs+=("$@")
    (cd "$MALL_ROOT" && exec setsid env "${envs[@]}" "$exe") \
        >>"$LOG_DIR/${inst}.log" 2>&1 </dev/null &
    LAUNCHED_PID=$!
    echo "$LAUNCHED_PID" >"$RUN_DIR/${inst}.pid"
}

