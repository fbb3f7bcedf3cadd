#!/usr/bin/env bash
# shellcheck disable=SC2034  # the BENCH_* globals are read across scripts/bench and its libraries
# scripts/bench checkout and mix: the checkout's cost and the shopper mix (sourced by
# scripts/bench, not run).

# --- checkout ------------------------------------------------------------------------------------------

# bench_checkout: checkouts/s and p99 through nginx, every request a new order with its own
# Idempotency-Key (nine in ten paid with tok_ok, one in ten declined with tok_declined),
# spread over eight signed-in shoppers, for one product with stock for the whole run. Each
# checkout is the whole saga: auth, order insert, reservation, payment, the gateway, the
# settlement. The 402s of the declined tenth are expected; any other non-2xx is an error.
bench_checkout() {
    local admin_token product i
    bench_stack_up user product cart order payment gateway-sim
    admin_token="$(curl -fsS -m 10 -H 'Content-Type: application/json' \
        -d "$(jq -n --arg e "${MALL_ADMIN_EMAIL:-admin@mall.local}" \
            --arg p "$(tr -d '\n' <"$MALL_VAR/secrets/admin-password")" '{email: $e, password: $p}')" \
        "$MALL_URL/api/users/login" | jq -r .access_token)" || die "could not log the admin in"
    product="$(curl -fsS -m 10 -H 'Content-Type: application/json' -H "Authorization: Bearer ${admin_token}" \
        -d '{"name":"Bench checkout","description":"","price":1000,"stock":100000000,"category":"Bench"}' \
        "$MALL_URL/api/products" | jq -r .id)" || die "could not create the bench product"
    : >"$BENCH_TMP/auths.txt"
    for i in 1 2 3 4 5 6 7 8; do
        register_and_login
        cat "$BENCH_TMP/auth-valid.txt" >>"$BENCH_TMP/auths.txt"
        : "$i"
    done
    bench_write_lua "$BENCH_TMP/bench.lua"
    # Later definitions win in Lua: the shared script's done() stays, init and request change.
    cat >>"$BENCH_TMP/bench.lua" <<LUA
-- scripts/bench checkout: every request a new order with its own key; 1 in 10 declined.
local shoppers = {}
local count = 0
function init(args)
    for l in io.lines(os.getenv("BENCH_AUTHS")) do
        if l ~= "" then shoppers[#shoppers + 1] = l end
    end
    math.randomseed(os.time() * 100 + (tid or 0))
end
function request()
    count = count + 1
    local card = (count % 10 == 0) and "tok_declined" or "tok_ok"
    local body = '{"items":[{"product_id":${product},"quantity":1}],"payment":{"card_token":"' .. card .. '"}}'
    local headers = {
        ["Authorization"] = shoppers[(count - 1) % #shoppers + 1],
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("b%d-%d-%d-%d", tid or 0, count, os.time(), math.random(1, 1000000000)),
    }
    return wrk.format("POST", "/api/orders", headers, body)
end
LUA
    local r
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        bench_wrk checkout "$r" "$MALL_URL/api/orders" "" "$BENCH_TMP/auths.txt"
    done
    local summary result paid declined
    summary="$(bench_summary_cases)"
    # Only the public route: the internal calls carry order ids in their paths.
    jq -s '[.[] | select(.uri == "/api/orders") | {method, uri, status}] | group_by(.status)
        | map(.[0] + {count: length})' "$MALL_VAR/log/nginx/access.log" >"$BENCH_TMP/orders-tally.json"
    paid="$(curl -fsS -m 10 -H "Authorization: Bearer ${admin_token}" "$MALL_URL/api/admin/stats" | jq '.orders_by_status.paid')"
    declined="$(curl -fsS -m 10 -H "Authorization: Bearer ${admin_token}" "$MALL_URL/api/admin/stats" | jq '.orders_by_status.failed')"
    result="$(jq -n --arg kind checkout --argjson machine "$(bench_machine)" --argjson params "$(params_json)" \
        --argjson cases "$summary" --argjson paid "$paid" --argjson failed "$declined" \
        --slurpfile tally "$BENCH_TMP/orders-tally.json" --argjson logs "$(bench_log_sizes)" \
        --slurpfile runs "$BENCH_TMP/runs.jsonl" \
        '{benchmark: $kind, machine: $machine, params: $params, cases: $cases,
          orders_at_end: {paid: $paid, failed: $failed},
          nginx_status_tally: $tally[0], log_sizes: $logs, runs: $runs}')"
    printf '\ncheckout benchmark: %s rounds x %ss, warm-up %ss; 9 in 10 tok_ok, 1 in 10 tok_declined (402 expected)\n' \
        "$BENCH_ROUNDS" "$BENCH_DURATION" "$BENCH_WARMUP"
    print_tables "$summary"
    printf '  orders at the end (warm-up included): %s paid, %s failed\n' "$paid" "$declined"
    print_observations "$result"
    write_result "$result"
}

# --- mix ---------------------------------------------------------------------------------------------

# bench_mix: the whole stack under the shopper mix, driven by mall-load (tools/load). The
# shoppers sign in through nginx before the load, so its login rate limit is raised for
# this private stack only. mall-load measures the CPU and RSS of every part itself (pids
# named here; MariaDB and Redis by process name: the host's, shared).
bench_mix() {
    local stamp out svg load password procs=() args=() shared=()
    MALL_LOGIN_RATE=100000r/s
    MALL_LOGIN_BURST=100000
    # Every shopper signs up from this host (the user service limits registrations per address).
    REGISTER_MAX_PER_ADDRESS=1000000
    export MALL_LOGIN_RATE MALL_LOGIN_BURST REGISTER_MAX_PER_ADDRESS
    if [[ "$BENCH_RUNTIME" == compose ]]; then
        bench_compose_up
        mapfile -t procs < <(bench_compose_procs)
        password="$BENCH_TMP/admin-password"
    else
        bench_stack_up user product cart order payment gateway-sim
        mapfile -t procs < <(load_proc_args "$MALL_VAR")
        password="$MALL_VAR/secrets/admin-password"
        # The host's MariaDB and Redis, by process name (shared with anything else on it).
        # shellcheck disable=SC2054 # the commas are mall-load's, inside single arguments
        shared=(--proc-comm mysql=mariadbd,mysqld --proc-comm redis=redis-server)
    fi
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$MALL_ROOT/var/bench"
    out="$MALL_ROOT/var/bench/mix-${BENCH_RUNTIME}-${stamp}.json"
    svg="$MALL_ROOT/var/bench/mix-${BENCH_RUNTIME}-${stamp}.svg"
    load="$BENCH_TMP/load.json"
    # shellcheck disable=SC2054 # the commas are mall-load's, inside single arguments
    args=(--url "$MALL_URL" --duration "$BENCH_DURATION" --warmup "$BENCH_WARMUP"
        --connections "$BENCH_CONNECTIONS" --rate "$BENCH_RATE" --users "$BENCH_USERS"
        --mode "$BENCH_MODE" --sweep-step "$BENCH_SWEEP_STEP"
        --admin-email "${MALL_ADMIN_EMAIL:-admin@mall.local}"
        --admin-password-file "$password" "${shared[@]}"
        --user-prefix "shopper-$(random_hex 3)" --json "$load")
    [[ -n "$BENCH_MIX" ]] && args+=(--mix "$BENCH_MIX")
    ((BENCH_SWEEP)) && args+=(--sweep --svg "$svg")
    # Counted over the whole mall-load run (setup included): the catalog cache's entry and
    # stock tiers, and what MariaDB (shared, server-wide) executed.
    local product_metrics="http://127.0.0.1:$((MALL_PORT_BASE + 2))/metrics" before after
    BENCH_COUNTERS=(
        "catalog_hits ${product_metrics} catalog_cache_hits_total"
        "catalog_misses ${product_metrics} catalog_cache_misses_total"
        "stock_hits ${product_metrics} catalog_stock_cache_hits_total"
        "stock_misses ${product_metrics} catalog_stock_cache_misses_total"
    )
    BENCH_MYSQL_STATUS=(Questions Com_stmt_execute Com_commit Com_select Com_insert Com_update Com_delete Connections)
    if [[ "$BENCH_RUNTIME" == compose ]]; then
        BENCH_COUNTERS=()
        BENCH_MYSQL_STATUS=()
    fi
    before="$(bench_probe)"
    log "mall-load ${args[*]} ${procs[*]}"
    "$CARGO_TARGET_DIR/release/mall-load" "${args[@]}" "${procs[@]}" || {
        BENCH_FAILED=1
        die "mall-load failed"
    }
    after="$(bench_probe)"
    jq -n --argjson b "$before" --argjson a "$after" '$a.counters | with_entries(.value -= ($b.counters[.key] // 0))' \
        >"$BENCH_TMP/counters.json"
    log "counters over the run: $(jq -c . "$BENCH_TMP/counters.json")"
    bench_status_tally >"$BENCH_TMP/tally.json"
    bench_log_sizes >"$BENCH_TMP/logs.json"
    jq --arg kind mix --arg runtime "$BENCH_RUNTIME" --argjson machine "$(bench_machine)" --arg command "scripts/bench ${BENCH_ARGS[*]}" \
        --slurpfile tally "$BENCH_TMP/tally.json" --slurpfile logs "$BENCH_TMP/logs.json" \
        --slurpfile counters "$BENCH_TMP/counters.json" \
        '{benchmark: $kind, runtime: $runtime, command: $command, machine: $machine, load: ., counters: $counters[0],
          nginx_status_tally: $tally[0], log_sizes: $logs[0]}' "$load" >"$out"
    log "results written to ${out#"$MALL_ROOT"/}"
    ((BENCH_SWEEP)) && log "plot written to ${svg#"$MALL_ROOT"/}"
    return 0
}
