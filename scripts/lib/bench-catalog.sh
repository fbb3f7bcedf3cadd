#!/usr/bin/env bash
# shellcheck disable=SC2034  # the BENCH_* globals are read across scripts/bench and its libraries
# scripts/bench catalog: the catalog path's cost (sourced by scripts/bench, not run).

# --- catalog -----------------------------------------------------------------------------------------

bench_catalog() {
    local blue_port green_port list_path r slot port lc="$BENCH_LAT_CONNECTIONS"
    bench_stack_up user product
    bench_write_lua "$BENCH_TMP/bench.lua"
    blue_port=$((MALL_PORT_BASE + 2))
    green_port=$((MALL_PORT_BASE + 102))

    # The green slot, started the way scripts/dev starts the blue one (stack.sh's
    # launch_part: same database, Redis prefix and environment), but with the cache off.
    load_config
    launch_part product green "$green_port" db "$BIN_DIR/product-service" CACHE_ENABLED=false
    log "started product-green (pid ${LAUNCHED_PID}) on 127.0.0.1:${green_port} with CACHE_ENABLED=false"
    wait_for 60 "product-green to be ready" port_ready "$green_port" ||
        { BENCH_FAILED=1; tail -n 20 "$MALL_VAR/log/product-green.log" >&2; die "product-green did not become ready"; }

    # Two bench servers, identical but for the slot they proxy to, with the locations of the
    # real server verbatim (snippets/api.conf: the auth subrequest sees the real path, a
    # public route). :BENCH_PORT -> blue (cache on), :BENCH_PORT2 -> green (cache off).
    {
        upstream_conf bench_product_blue "127.0.0.1:${blue_port}" blue
        upstream_conf bench_product_green "127.0.0.1:${green_port}" green
        for slot in blue green; do
            if [[ "$slot" == blue ]]; then port="$BENCH_PORT"; else port="$BENCH_PORT2"; fi
            server_block "$port" "Bench-only (scripts/bench catalog): the product ${slot} slot." \
                "    location = /api/products   { include snippets/api.conf; proxy_pass http://bench_product_${slot}; }" \
                "    location ^~ /api/products/ { include snippets/api.conf; proxy_pass http://bench_product_${slot}; }"
        done
    } >"$BENCH_TMP/catalog.conf"
    bench_nginx_extra bench-catalog "$BENCH_TMP/catalog.conf"
    wait_for 10 "the bench servers" port_in_use "$BENCH_PORT2" || die "the bench servers do not answer"

    local cached="http://127.0.0.1:${BENCH_PORT}" uncached="http://127.0.0.1:${BENCH_PORT2}"
    list_path="/api/products?category=Kitchen&sort=price_asc"
    curl -fsS -m 10 "$MALL_URL/api/products?size=100" | jq -r '.items[].id | "/api/products/\(.)"' \
        >"$BENCH_TMP/detail-paths.txt" || die "could not list the demo catalog"
    local n_ids first list_items
    n_ids="$(wc -l <"$BENCH_TMP/detail-paths.txt")"
    ((n_ids > 0)) || die "the demo catalog is empty"
    first="$(head -n1 "$BENCH_TMP/detail-paths.txt")"
    log "detail requests cycle over the ${n_ids} demo products (${first} ... $(tail -n1 "$BENCH_TMP/detail-paths.txt"))"
    expect_status 200 "cached detail ${first}" "$cached$first"
    curl -sS -m 5 -D - -o /dev/null "$cached$first" | grep -qi '^x-served-by: product-blue' ||
        die "the cached bench server is not served by product-blue"
    expect_status 200 "uncached detail ${first}" "$uncached$first"
    curl -sS -m 5 -D - -o /dev/null "$uncached$first" | grep -qi '^x-served-by: product-green' ||
        die "the uncached bench server is not served by product-green"
    expect_status 200 "cached list" "$cached$list_path"
    expect_status 200 "uncached list" "$uncached$list_path"
    list_items="$(curl -fsS -m 5 "$cached$list_path" | jq '.items | length')"
    log "the list page holds ${list_items} products"

    BENCH_COUNTERS=(
        "blue_cache_hits http://127.0.0.1:${blue_port}/metrics catalog_cache_hits_total"
        "blue_cache_misses http://127.0.0.1:${blue_port}/metrics catalog_cache_misses_total"
        "green_cache_hits http://127.0.0.1:${green_port}/metrics catalog_cache_hits_total"
        "green_cache_misses http://127.0.0.1:${green_port}/metrics catalog_cache_misses_total"
    )
    # Server-wide (the host's MySQL/MariaDB is shared), but the bench dominates them.
    BENCH_MYSQL_STATUS=(Questions Com_stmt_prepare Com_stmt_execute Connections)
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        bench_wrk detail-cached "$r" "$cached$first" "$BENCH_TMP/detail-paths.txt"
        bench_wrk detail-uncached "$r" "$uncached$first" "$BENCH_TMP/detail-paths.txt"
        bench_wrk list-cached "$r" "$cached$list_path"
        bench_wrk list-uncached "$r" "$uncached$list_path"
        if ((lc > 0)); then
            bench_wrk "detail-cached-c${lc}" "$r" "$cached$first" "$BENCH_TMP/detail-paths.txt" "" "$lc" 1
            bench_wrk "detail-uncached-c${lc}" "$r" "$uncached$first" "$BENCH_TMP/detail-paths.txt" "" "$lc" 1
            bench_wrk "list-cached-c${lc}" "$r" "$cached$list_path" "" "" "$lc" 1
            bench_wrk "list-uncached-c${lc}" "$r" "$uncached$list_path" "" "" "$lc" 1
        fi
    done

    local summary ratios result
    summary="$(bench_summary_cases)"
    ratios="$(jq -n --argjson s "$summary" --arg lc "$lc" '
        def pair($c; $u): if $c and $u then {
          throughput_cached_over_uncached: ($c.rps / $u.rps),
          throughput_ratio_rounds: [range(0; $c.rps_rounds | length) | $c.rps_rounds[.] / $u.rps_rounds[.]],
          p50_ms_cached: $c.p50_ms, p50_ms_uncached: $u.p50_ms,
          p99_ms_cached: $c.p99_ms, p99_ms_uncached: $u.p99_ms,
          p99_uncached_over_cached: ($u.p99_ms / $c.p99_ms)
        } else null end;
        {
          detail_saturated: pair($s["detail-cached"]; $s["detail-uncached"]),
          list_saturated: pair($s["list-cached"]; $s["list-uncached"]),
          detail_unloaded: pair($s["detail-cached-c\($lc)"]; $s["detail-uncached-c\($lc)"]),
          list_unloaded: pair($s["list-cached-c\($lc)"]; $s["list-uncached-c\($lc)"])
        }')"
    result="$(jq -n --arg kind catalog --argjson machine "$(bench_machine)" --argjson params "$(params_json)" \
        --argjson cases "$summary" --argjson ratios "$ratios" \
        --argjson n_ids "$n_ids" --arg list_path "$list_path" --argjson list_items "$list_items" \
        --argjson blue_mem "$(bench_mem "$(bench_pid product-blue)")" \
        --argjson green_mem "$(bench_mem "$(bench_pid product-green)")" \
        --argjson tally "$(bench_status_tally)" --argjson logs "$(bench_log_sizes)" \
        --arg nginx_conf "$(cat "$BENCH_TMP/catalog.conf")" --slurpfile runs "$BENCH_TMP/runs.jsonl" \
        '{benchmark: $kind, machine: $machine, params: $params,
          detail: {ids_cycled: $n_ids}, list: {path: $list_path, items: $list_items},
          cases: $cases, ratios: $ratios,
          product_memory: {blue: $blue_mem, green: $green_mem},
          nginx_status_tally: $tally, log_sizes: $logs, bench_nginx_conf: $nginx_conf, runs: $runs}')"

    printf '\ncatalog benchmark: %s rounds x %ss per case, warm-up %ss; cached = blue slot, uncached = green slot with CACHE_ENABLED=false\n' \
        "$BENCH_ROUNDS" "$BENCH_DURATION" "$BENCH_WARMUP"
    print_tables "$summary"
    jq -r '
        def f2: . * 100 | round / 100;
        def line($name; $p): if $p then
            "  \($name): cached / uncached req/s \($p.throughput_cached_over_uncached | f2)"
            + " (rounds: \($p.throughput_ratio_rounds | map(f2) | join(", "))), p99 \($p.p99_ms_cached | f2) vs \($p.p99_ms_uncached | f2) ms"
          else empty end;
        .ratios as $r |
        "",
        line("detail, saturated"; $r.detail_saturated),
        line("list, saturated  "; $r.list_saturated),
        line("detail, unloaded "; $r.detail_unloaded),
        line("list, unloaded   "; $r.list_unloaded),
        "  product cache hits/misses: " + (.cases | to_entries | map("\(.key) blue \(.value.counters.blue_cache_hits)/\(.value.counters.blue_cache_misses),"
            + " green \(.value.counters.green_cache_hits)/\(.value.counters.green_cache_misses)") | join("; ")),
        "  MySQL statements per request (server-wide counters): " + (.cases | to_entries | map("\(.key) "
            + "\(.value.counters.mysql_Questions / .value.requests * 100 | round / 100) questions,"
            + " \(.value.counters.mysql_Com_stmt_prepare / .value.requests * 100 | round / 100) prepares,"
            + " \(.value.counters.mysql_Com_stmt_execute / .value.requests * 100 | round / 100) executes,"
            + " \(.value.counters.mysql_Connections) new connections") | join("; "))
        ' <<<"$result"
    print_observations "$result"
    write_result "$result"
}
