#!/usr/bin/env bash
# scripts/test's blue/green steps (sourced by scripts/test, after common.sh and db.sh):
#
#   bg_dry_run_check  the compose runtime's --dry-run plan (no Docker needed)
#   run_bluegreen     the zero-downtime test: a private local stack (free ports, mktemp
#                     state, its own database and Redis prefixes, always torn down) under
#                     steady wrk load through nginx while scripts/blue-green deploys
#                     product v2, rolls it back, fails to deploy a version that never gets
#                     ready, deploys auth-proxy, deploys cart while a second deploy is
#                     refused by the lock, and deploys user. Passes only with no failed request out of at
#                     least BG_MIN_REQUESTS and the right X-Served-By before and after
#                     each step. Accounting: scripts/lib/bluegreen-load.lua. A second,
#                     smaller load on keep-alive connections is held to the same rule: no
#                     non-2xx, no reset, no close, no timeout (a switch reloads nothing).
#
# run_bluegreen runs in a subshell, so its stack variables never reach the e2e step's.

BG_MIN_REQUESTS="${MALL_BG_TEST_MIN_REQUESTS:-5000}"

# shellcheck source=scripts/lib/bg-dry-run-test.sh
source "$MALL_ROOT/scripts/lib/bg-dry-run-test.sh"

# --- the zero-downtime test -------------------------------------------------------------------

BG_DIR=""
BG_UP=0
BG_FAILED=0
BG_WRK_PIDS=()

bg_ensure_tools() {
    ensure_packages wrk:wrk jq:jq flock:util-linux
}

bg_stack_env() {
    local id
    MALL_PORT_BASE="$(free_port_base)" || die "no free port range found"
    MALL_HTTP_PORT=$((MALL_PORT_BASE + 50))
    MALL_INTERNAL_PORT=$((MALL_PORT_BASE + 51))
    BG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mall-bluegreen.XXXXXX")"
    MALL_VAR="$BG_DIR/var"
    id="$(random_hex 4)"
    MALL_DB_PREFIX="bg_${id}_"
    REDIS_PREFIX="bg:${id}:"
    # The parts the load touches; nothing here depends on the checkout services.
    MALL_SERVICES="user product cart"
    MALL_LOGIN_RATE=100r/s
    MALL_LOGIN_BURST=200
    unset MALL_BG_STATE_DIR MALL_BG_RUNTIME
    export MALL_PORT_BASE MALL_HTTP_PORT MALL_INTERNAL_PORT MALL_VAR MALL_DB_PREFIX REDIS_PREFIX \
        MALL_SERVICES MALL_LOGIN_RATE MALL_LOGIN_BURST
    URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    INTERNAL="http://127.0.0.1:${MALL_INTERNAL_PORT}"
    log "blue/green stack: ${URL} ports ${MALL_PORT_BASE}+, state ${MALL_VAR}," \
        "databases ${MALL_DB_PREFIX}*, Redis keys ${REDIS_PREFIX}*"
}

bg_cleanup() {
    local rc=$? f
    ((rc == 0)) || BG_FAILED=1
    local pid
    for pid in "${BG_WRK_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [[ -n "$BG_DIR" ]] || return 0
    if ((BG_FAILED)) && [[ -d "$MALL_VAR/log" ]]; then
        for f in "$MALL_VAR"/log/*.log "$MALL_VAR/log/nginx/error.log" "$(bg_state_dir)/audit.log"; do
            [[ -s "$f" ]] || continue
            printf '\n----- last lines of %s -----\n' "${f#"$BG_DIR"/}" >&2
            tail -n 25 "$f" >&2
        done
    fi
    if ((BG_UP)); then
        bash "$MALL_ROOT/scripts/dev" down || warn "scripts/dev down failed"
    fi
    drop_stack_data "$MALL_DB_PREFIX" "$REDIS_PREFIX"
    if ((BG_FAILED)); then
        log "kept the blue/green test's state for inspection: $BG_DIR"
    else
        rm -rf "$BG_DIR"
    fi
}

# served_by <url> [header...]: X-Served-By of one GET.
served_by() {
    local url="$1"
    shift
    curl -sS -o /dev/null -D - -m 5 "$@" "$url" 2>/dev/null |
        tr -d '\r' | awk -F': *' 'tolower($1) == "x-served-by" { print $2; exit }' || true
}

# expect_served <what> <pattern> <url> [header...]: three answers in a row match the glob.
expect_served() {
    local what="$1" want="$2" url="$3" got i
    shift 3
    for i in 1 2 3; do
        got="$(served_by "$url" "$@")"
        # shellcheck disable=SC2053  # $want is a glob on purpose
        [[ "$got" == $want ]] || { warn "${what}: X-Served-By is '${got}', expected ${want}"; return 1; }
        : "$i"
    done
    log "${what}: ${got}"
}

# load_lines [mode]: the load's requests in nginx's access log (both modes by default).
load_lines() {
    grep -c "\"user_agent\":\"mall-bluegreen-${1:-}" "$MALL_VAR/log/nginx/access.log" 2>/dev/null || true
}

at_least_lines() {
    (($(load_lines "${2:-}") >= $1))
}

# lines_settled: the load's access-log count did not move for a second.
lines_settled() {
    local before
    before="$(load_lines)"
    sleep 1
    [[ "$(load_lines)" == "$before" ]]
}

bg() {
    bash "$MALL_ROOT/scripts/blue-green" "$@"
}

# --- runtime hooks: the local runtime's; scripts/lib/bg-compose-test.sh redefines them ---

# bg_slot_stopped <part> <slot>: the slot runs no process (and its port is free).
bg_slot_stopped() {
    local slot_offset=0
    [[ "$2" == green ]] && slot_offset=100
    [[ ! -e "$MALL_VAR/run/$1-$2.pid" ]] || return 1
    [[ "$1" != product ]] || ! port_in_use "$((MALL_PORT_BASE + 2 + slot_offset))"
}

# bg_release_kept <part> <version>: what a rollback to that version needs is still there.
bg_release_kept() {
    [[ -x "$MALL_VAR/releases/$1/$2/$(binary_of "$1")" ]]
}

# bg_deploy_never_ready: deploys a product version whose database is unreachable.
bg_deploy_never_ready() {
    bg deploy product never-ready --ready-timeout 8 --env "DATABASE_URL=mysql://nobody:nothing@127.0.0.1:1/none"
}

# bg_slot_probe <part>: X-Served-By of nginx's /_slot/<part> probe on its internal listener.
bg_slot_probe() {
    served_by "$INTERNAL/_slot/$1"
}

bg_state_dir() {
    # shellcheck disable=SC2031  # the dry run's subshell sets its own; this reads the caller's
    printf '%s' "${MALL_BG_STATE_DIR:-$MALL_VAR/blue-green}"
}

# expect_probe <what> <pattern> <part>: three probes in a row match the glob.
expect_probe() {
    local got i
    for i in 1 2 3; do
        got="$(bg_slot_probe "$3")"
        # shellcheck disable=SC2053  # $2 is a glob on purpose
        [[ "$got" == $2 ]] || { warn "${1}: X-Served-By is '${got}', expected ${2}"; return 1; }
        : "$i"
    done
    log "${1}: ${got}"
}

# The steps, each checked before and after through nginx.
bg_steps() {
    local auth=(-H "Authorization: Bearer $TOKEN") products="$URL/api/products?size=1" out rc
    # 1. deploy product v2
    expect_served "before deploy: product" "product-blue@$P0" "$products" || return 1
    bg deploy product v2 || { warn "deploy product v2 failed"; return 1; }
    expect_served "after deploy: product" "product-green@v2" "$products" || return 1
    if ! bg_slot_stopped product blue || ! bg_release_kept product "$P0"; then
        warn "product-blue should be stopped, its release kept"
        return 1
    fi
    # 2. rollback product
    bg rollback product || { warn "rollback product failed"; return 1; }
    expect_served "after rollback: product" "product-blue@$P0" "$products" || return 1
    bg_slot_stopped product green || { warn "product-green should be stopped"; return 1; }
    # 3. a version that never gets ready (its database is unreachable): refused, nothing changes
    if bg_deploy_never_ready; then
        warn "the deploy of a version that never gets ready succeeded"
        return 1
    fi
    expect_served "after the failed deploy: product" "product-blue@$P0" "$products" || return 1
    bg_slot_stopped product green || { warn "the failed slot product-green is still running"; return 1; }
    # 4. auth-proxy, switched the same way (its answers only show on nginx's /_slot probe)
    expect_probe "before deploy: auth-proxy" "auth-proxy-blue@$A0" auth-proxy || return 1
    bg deploy auth-proxy v2 || { warn "deploy auth-proxy v2 failed"; return 1; }
    expect_probe "after deploy: auth-proxy" "auth-proxy-green@v2" auth-proxy || return 1
    expect_served "authenticated route after the auth-proxy switch" "cart-blue@*" "$URL/api/cart" "${auth[@]}" || return 1
    # 5. the lock: a second deploy while one runs is refused, naming the holder
    bg deploy cart v2 >"$BG_DIR/cart-deploy.log" 2>&1 &
    local first=$!
    wait_for 20 "the first deploy to hold the lock" grep -qs "deploy cart v2" "$(bg_state_dir)/lock.holder" ||
        { wait "$first" || true; return 1; }
    rc=0
    out="$(bg deploy cart v3 2>&1)" || rc=$?
    if ((rc == 0)) || ! grep -q "holds the lock: pid [0-9]* .*'deploy cart v2'" <<<"$out"; then
        warn "a concurrent deploy was not refused clearly (exit ${rc}): ${out}"
        wait "$first" || true
        return 1
    fi
    log "concurrent deploy refused: ${out##*error: }"
    wait "$first" || { cat "$BG_DIR/cart-deploy.log" >&2; warn "deploy cart v2 failed"; return 1; }
    expect_served "after deploy: cart" "cart-green@v2" "$URL/api/cart" "${auth[@]}" || return 1
    # 6. the user service (it issues the tokens the load's profile requests carry),
    expect_served "before deploy: user" "user-blue@*" "$URL/api/users/me" "${auth[@]}" || return 1
    # Through `ship`, the pipeline's host-side command (.github/workflows/deploy.yml).
    bg ship v2 user || { warn "ship v2 user failed"; return 1; }
    expect_served "after deploy: user" "user-green@v2" "$URL/api/users/me" "${auth[@]}" || return 1
}

# shellcheck source=scripts/lib/bg-test-checks.sh
source "$MALL_ROOT/scripts/lib/bg-test-checks.sh"

# bg_start_load <close|keepalive> <connections>: one wrk in the background.
bg_start_load() {
    BG_MODE="$1" BG_AGENT="mall-bluegreen-$1" BG_TOKEN="$TOKEN" BG_PRODUCT_ID="$PRODUCT_ID" \
        BG_STOP_FILE="$BG_DIR/load.stop" BG_OUT="$BG_DIR/load-$1.json" BG_DELAY_MS=25 \
        wrk -t1 -c"$2" -d600s --timeout 5s -s "$MALL_ROOT/scripts/lib/bluegreen-load.lua" "$URL" \
        >"$BG_DIR/wrk-$1.txt" 2>&1 &
    BG_WRK_PIDS+=($!)
}

# bg_admin_password: the stack's admin password.
bg_admin_password() {
    tr -d '\n' <"$MALL_VAR/secrets/admin-password"
}

bg_zero_downtime() {
    local admin_password t0
    admin_password="$(bg_admin_password)"
    TOKEN="$(curl -sS -m 10 -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"${MALL_ADMIN_EMAIL:-admin@mall.local}\",\"password\":\"${admin_password}\"}" \
        "$URL/api/users/login" | jq -r .access_token)"
    [[ -n "$TOKEN" && "$TOKEN" != null ]] || { warn "could not log in as the admin"; return 1; }
    PRODUCT_ID="$(curl -sS -m 10 "$URL/api/products?size=1" | jq -r '.items[0].id')"
    P0="$(served_by "$URL/api/products?size=1")"
    P0="${P0#product-blue@}"
    A0="$(bg_slot_probe auth-proxy)"
    A0="${A0#auth-proxy-blue@}"

    t0=$SECONDS
    bg_start_load close 6 || return 1
    bg_start_load keepalive 2 || return 1
    wait_for 30 "the load to reach nginx" at_least_lines 200 || return 1
    log "steady load running: 6 connections opening one per request and 2 keep-alive ones," \
        "25 ms between requests, 5 routes"

    bg_steps || return 1

    wait_for 120 "at least ${BG_MIN_REQUESTS} load requests" at_least_lines $((BG_MIN_REQUESTS + 100)) close || true
    touch "$BG_DIR/load.stop"
    wait_for 15 "the load's last requests to finish" lines_settled || true
    local pid
    for pid in "${BG_WRK_PIDS[@]}"; do
        kill -INT "$pid"
        wait "$pid" || { warn "wrk failed: $(cat "$BG_DIR"/wrk-*.txt)"; return 1; }
    done
    BG_WRK_PIDS=()
    log "load ran $((SECONDS - t0))s"
    [[ -s "$BG_DIR/load-close.json" && -s "$BG_DIR/load-keepalive.json" ]] ||
        { warn "wrk wrote no results: $(cat "$BG_DIR"/wrk-*.txt)"; return 1; }
    bg_check_results "$BG_DIR/load-close.json" "$BG_DIR/load-keepalive.json" || return 1
    bg_check_audit
}

run_bluegreen() (
    trap bg_cleanup EXIT
    trap 'BG_FAILED=1; exit 130' INT TERM
    bg_ensure_tools
    bg_stack_env
    BG_UP=1
    bash "$MALL_ROOT/scripts/dev" up --no-build || return 1
    bg_zero_downtime
)
