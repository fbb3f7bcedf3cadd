#!/usr/bin/env bash
# scripts/test's end-to-end stage (sourced by scripts/test, not run): the private local stack
# (e2e_env, run_e2e, e2e_cleanup) and the steps that run on it after the e2e suite
# (storefront, trace ids, crash, outage, load smoke, contract fuzzer, auth-proxy down).
# shellcheck disable=SC2034  # variables here are read by scripts/test

# --- end to end -----------------------------------------------------------------------------

E2E_VAR=""
E2E_UP=0
E2E_FAILED=0

e2e_env() {
    MALL_PORT_BASE="$(free_port_base)" || die "no free port range found"
    MALL_HTTP_PORT=$((MALL_PORT_BASE + 50))
    MALL_INTERNAL_PORT=$((MALL_PORT_BASE + 51))
    E2E_VAR="$(mktemp -d "${TMPDIR:-/tmp}/mall-e2e.XXXXXX")"
    MALL_VAR="$E2E_VAR/var"
    local id
    id="$(random_hex 4)"
    MALL_DB_PREFIX="e2e_${id}_"
    REDIS_PREFIX="e2e:${id}:"
    MALL_LOGIN_RATE="${MALL_E2E_LOGIN_RATE:-100r/s}"
    MALL_LOGIN_BURST=200
    # The e2e suite's edge::forwarded tests connect from 127.0.0.2 as a trusted proxy would.
    MALL_TRUSTED_PROXY_CIDR=127.0.0.2/32
    MALL_TRUSTED_PROXY_ADDR=127.0.0.2
    # Every test signs up from 127.0.0.1: the per-address registration limit (500 an hour,
    # tested by the user service's own tests) is raised for this stack, as the login rate is.
    REGISTER_MAX_PER_ADDRESS=100000
    export MALL_PORT_BASE MALL_HTTP_PORT MALL_INTERNAL_PORT MALL_VAR MALL_DB_PREFIX REDIS_PREFIX \
        MALL_LOGIN_RATE MALL_LOGIN_BURST MALL_TRUSTED_PROXY_CIDR MALL_TRUSTED_PROXY_ADDR \
        REGISTER_MAX_PER_ADDRESS
    log "e2e stack: http://127.0.0.1:${MALL_HTTP_PORT} ports ${MALL_PORT_BASE}+, state ${MALL_VAR}," \
        "databases ${MALL_DB_PREFIX}*, Redis keys ${REDIS_PREFIX}*"
}

print_log_tails() {
    local f
    [[ -n "$E2E_VAR" && -d "$MALL_VAR/log" ]] || return 0
    for f in "$MALL_VAR"/log/*.log "$MALL_VAR"/log/nginx/error.log; do
        [[ -s "$f" ]] || continue
        printf '\n----- last lines of %s -----\n' "${f#"$MALL_VAR"/}" >&2
        tail -n 40 "$f" >&2
    done
    f="$MALL_VAR/log/nginx/access.log"
    if [[ -s "$f" ]]; then
        printf '\n----- last lines of log/nginx/access.log -----\n' >&2
        tail -n 15 "$f" >&2
    fi
}

# e2e_cleanup: always runs (trap): stops the stack, drops what it created.
e2e_cleanup() {
    [[ -n "$E2E_VAR" ]] || return 0
    if ((KEEP_STACK)); then
        log "the e2e stack is still running: MALL_VAR=$MALL_VAR MALL_PORT_BASE=$MALL_PORT_BASE" \
            "MALL_HTTP_PORT=$MALL_HTTP_PORT scripts/dev down (then drop databases ${MALL_DB_PREFIX}*)"
        return 0
    fi
    if ((E2E_UP)) || [[ -d "$MALL_VAR/run" ]]; then
        bash "$MALL_ROOT/scripts/dev" down || warn "scripts/dev down failed"
    fi
    drop_stack_data "$MALL_DB_PREFIX" "$REDIS_PREFIX"
    if ((E2E_FAILED)); then
        log "kept the e2e state (logs, rendered nginx config) for inspection: $E2E_VAR"
    else
        rm -rf "$E2E_VAR"
    fi
    E2E_VAR=""
}

run_e2e() {
    local attempt keep
    for attempt in 1 2 3; do
        e2e_env
        E2E_UP=1
        bash "$MALL_ROOT/scripts/dev" up --no-build && break
        # Another private stack (the blue/green step runs beside this one) can bind a port
        # between our check and our bind: then start again on other ports.
        if ((attempt < 3)) && grep -qs 'Address already in use' "$MALL_VAR"/log/*.log "$MALL_VAR"/log/nginx/error.log; then
            warn "a port of the e2e stack was taken meanwhile; starting again on other ports"
            keep=$KEEP_STACK
            KEEP_STACK=0
            e2e_cleanup
            KEEP_STACK=$keep
            continue
        fi
        E2E_FAILED=1
        print_log_tails
        return 1
    done
    MALL_URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    MALL_ADMIN_EMAIL="${MALL_ADMIN_EMAIL:-admin@mall.local}"
    MALL_ADMIN_PASSWORD="$(tr -d '\n' <"$MALL_VAR/secrets/admin-password")"
    MALL_LOG_DIR="$MALL_VAR/log"
    # The key-rotation test runs `user-service keygen` on the stack's keys directory.
    MALL_USER_SERVICE_BIN="${CARGO_TARGET_DIR:-$MALL_ROOT/target}/${MALL_PROFILE:-debug}/user-service"
    # The checkout tests ask the card gateway simulator (outside the system) what was charged.
    MALL_GATEWAY_URL="http://127.0.0.1:$((MALL_PORT_BASE + 9))"
    export MALL_URL MALL_ADMIN_EMAIL MALL_ADMIN_PASSWORD MALL_LOG_DIR MALL_VAR MALL_USER_SERVICE_BIN \
        MALL_GATEWAY_URL
    if ! run_cargo test -p e2e --locked; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    # --- storefront (web/tests) ---
    if ! step storefront run_storefront; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    # --- end storefront ---
    # Before check_auth_down, which stops auth-proxy.
    if ! step trace-ids check_trace_coverage; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    # kill -9 of the order service in the middle of checkouts, then a restart (after the trace
    # audit, which reads every line of the run; before check_auth_down).
    if ! step crash run_crash_test; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    # The cart's database account locked and its connections killed: 503 quickly, then
    # recovery by itself (it takes a part of the stack down, so it runs alone too).
    if ! step outage run_ignored_test adversarial_outage::cart_database_crash_answers_503_quickly_and_recovers_by_itself; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    if ! step load-smoke check_load_smoke; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    # Last on this stack: the fuzzer's admin deletes and reprices products.
    if ! step contract run_contract_fuzzer; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
    if ! check_auth_down; then
        E2E_FAILED=1
        print_log_tails
        return 1
    fi
}

# run_contract_fuzzer: schemathesis against docs/openapi.yaml on the e2e stack, as a customer
# and as an admin, fixed seed, bounded examples (e2e/contract/fuzz.py; MALL_FUZZ_SEED and
# MALL_FUZZ_EXAMPLES change them by hand).
run_contract_fuzzer() {
    "$MALL_VENV/bin/python" "$MALL_ROOT/e2e/contract/fuzz.py" --url "$MALL_URL" \
        --admin-email "$MALL_ADMIN_EMAIL" --admin-password-file "$MALL_VAR/secrets/admin-password" \
        --seed "${MALL_FUZZ_SEED:-20261206}" --examples "${MALL_FUZZ_EXAMPLES:-25}" \
        --schemathesis "$MALL_VENV/bin/schemathesis" --report-dir "$E2E_VAR/contract"
}

# run_ignored_test <name>: one ignored e2e test by its exact name, which must run and pass:
# a renamed test fails the step instead of running zero tests.
run_ignored_test() {
    local out="$E2E_VAR/${1%%::*}-test.out"
    run_cargo test -p e2e --locked --test api -- --ignored --exact "$1" 2>&1 | tee "$out" || return 1
    grep -q '^test result: ok\. 1 passed' "$out" || {
        warn "$1 did not run (renamed?): its output has no 'test result: ok. 1 passed'"
        return 1
    }
}

# run_crash_test: the crash test (e2e/tests/api/crash.rs), by its exact name.
run_crash_test() {
    run_ignored_test crash::crash_recovery_settles_every_order_without_losing_money_or_stock
}

# --- storefront (web/tests) ---
# run_storefront: the browser end-to-end test of the storefront (web/tests/storefront_test.py)
# against MALL_URL, in Debian's headless chromium driven by Python playwright (PyPI; no
# browser download, no npm). Screenshots go to a temp folder that is kept, printed at the end.
run_storefront() {
    local out
    out="$(mktemp -d "${TMPDIR:-/tmp}/mall-storefront.XXXXXX")"
    log "storefront screenshots: $out"
    STOREFRONT_OUT="$out" CHROMIUM="$(command -v chromium)" \
        "$MALL_VENV/bin/python" "$MALL_ROOT/web/tests/storefront_test.py"
}
# --- end storefront ---

# check_load_smoke: mall-load (tools/load, what scripts/bench mix runs) against the e2e
# stack for a few seconds, closed then open loop, with shoppers it signs in itself. Fails
# unless every route of the mix answered, with no error of any kind, in both runs, and the
# process table has CPU for nginx and every service.
check_load_smoke() {
    local bin out procs=()
    bin="${CARGO_TARGET_DIR:-$MALL_ROOT/target}/${MALL_PROFILE:-debug}/mall-load"
    out="$E2E_VAR/load-smoke.json"
    mapfile -t procs < <(load_proc_args "$MALL_VAR")
    "$bin" --url "$MALL_URL" --mode both --duration 3 --warmup 1 --rate 60 --connections 4 \
        --users 8 --signin-concurrency 2 --user-prefix "smoke-$(random_hex 3)" \
        --admin-email "$MALL_ADMIN_EMAIL" --admin-password-file "$MALL_VAR/secrets/admin-password" \
        --stock-top-up 1000 --proc-comm mysql=mariadbd,mysqld --proc-comm redis=redis-server \
        "${procs[@]}" --json "$out" --fail-on-errors || return 1
    jq -e '
        (.runs | length) == 2
        and all(.runs[]; .errors == 0
            and ((.summary.routes | keys) == ["add_to_cart", "browse", "checkout", "detail", "search", "view_cart"])
            and all(.summary.routes[]; .requests > 0 and .errors == 0)
            and all(.usage.processes | (.nginx, .["auth-proxy"], .product, .cart, .order); .cpu_seconds > 0))
        and .signin.login.requests == 8
        ' "$out" >/dev/null || {
        warn "the load smoke run is not what it should be: $(jq -c '[.runs[] | {errors, routes: (.summary.routes | map_values({requests, errors, statuses}))}]' "$out")"
        return 1
    }
    log "mall-load: $(jq -r '[.runs[] | "\(.spec.mode) \(.summary.overall.requests) requests, p99 \(.summary.overall.p99_ms) ms, \(.errors) errors"] | join("; ")' "$out")"
}

# check_auth_down: with auth-proxy stopped, /api/ requests answer 503 service_unavailable
# with the standard JSON body and a trace id (never 401, never a bare 500). Runs after the
# e2e suite, since it stops a part of the shared stack.
check_auth_down() {
    local pid body status i
    pid="$(cat "$MALL_VAR/run/auth-proxy-blue.pid")" || return 1
    kill -TERM "$pid" || return 1
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        : "$i"
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "auth-proxy (pid ${pid}) did not stop"
        return 1
    fi
    body="$(mktemp)"
    status="$(curl -s -o "$body" -w '%{http_code}' -H 'Authorization: Bearer x.y.z' \
        "${MALL_URL}/api/users/me")"
    if [[ "$status" != 503 ]] || ! grep -q '"code":"service_unavailable"' "$body" ||
        ! grep -Eq '"trace_id":"[0-9a-f]{32}"' "$body"; then
        warn "with auth-proxy down, /api/users/me answered ${status}: $(cat "$body")"
        rm -f "$body"
        return 1
    fi
    rm -f "$body"
    log "auth-proxy down: /api/ answers 503 service_unavailable with a trace id (checked)"
}
