#!/usr/bin/env bash
# shellcheck disable=SC2034  # the BENCH_* globals are read across scripts/bench and its libraries
# scripts/bench auth: auth-proxy's cost per decision (sourced by scripts/bench, not run).

# --- auth -------------------------------------------------------------------------------------------

bench_auth() {
    local ap_metrics user_port url_a url_b url_c k header_payload sig upstream_uri upstream_desc
    bench_stack_up user
    bench_write_lua "$BENCH_TMP/bench.lua"
    register_and_login
    user_port=$((MALL_PORT_BASE + 1))
    ap_metrics="http://127.0.0.1:${MALL_PORT_BASE}/metrics"
    BENCH_COUNTERS=(
        "auth_cache_hits $ap_metrics auth_token_cache_hits_total"
        "auth_cache_misses $ap_metrics auth_token_cache_misses_total"
        "auth_decisions $ap_metrics auth_decisions_total"
    )

    # Both locations make the same upstream request, with the same headers (the client's
    # Authorization header is forwarded in both), so the difference is the auth subrequest.
    if [[ "$BENCH_UPSTREAM" == health ]]; then
        upstream_uri=/health
        upstream_desc="GET /health of the user slot (fixed JSON: no MySQL, no Redis, not logged at info)"
    else
        upstream_uri=/api/users/me
        upstream_desc="GET /api/users/me of the user slot (one MySQL primary-key lookup, one info log line)"
    fi
    {
        upstream_conf bench_user "127.0.0.1:${user_port}" blue
        server_block "$BENCH_PORT" "Bench-only (scripts/bench auth): never part of a normal run." \
            "    # (a) the wiring of the real /api/ locations, verbatim (snippets/api.conf): the" \
            "    #     subrequest carries X-Original-URI /api/users/me, an 'authenticated' route." \
            "    location = /api/users/me {" \
            "        include snippets/api.conf;" \
            "        proxy_pass http://bench_user${upstream_uri};" \
            "    }" \
            "    # (b) the same upstream request without auth_request; the identity nginx would" \
            "    #     have copied from auth-proxy's answer, fixed." \
            "    location = /noauth/api/users/me {" \
            "        set \$auth_user_id ${BENCH_USER_ID};" \
            "        set \$auth_user_roles customer;" \
            "        set \$auth_token_id bench;" \
            "        set \$auth_token_expires ${BENCH_TOKEN_EXP};" \
            "        include snippets/proxy.conf;" \
            "        include snippets/errors.conf;" \
            "        proxy_pass http://bench_user${upstream_uri};" \
            "    }"
    } >"$BENCH_TMP/auth.conf"
    bench_nginx_extra bench-auth "$BENCH_TMP/auth.conf"
    url_a="http://127.0.0.1:${BENCH_PORT}/api/users/me"
    url_b="http://127.0.0.1:${BENCH_PORT}/noauth/api/users/me"
    url_c="$MALL_URL/api/users/me"
    wait_for 10 "the bench server" port_in_use "$BENCH_PORT" || die "the bench server does not answer"

    # The 401 flood: the real token's header and claims with forged signatures (known kid,
    # well-formed, so each one costs a full signature check: the expensive kind of 401).
    header_payload="${BENCH_TOKEN%.*}"
    for ((k = 0; k < 256; k++)); do
        sig="$(head -c 64 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
        printf 'Bearer %s.%s\n' "$header_payload" "$sig"
    done >"$BENCH_TMP/auth-forged.txt"

    expect_status 200 "real /api/users/me with the token" -H "Authorization: Bearer $BENCH_TOKEN" "$url_c"
    expect_status 200 "(a) authenticated bench location" -H "Authorization: Bearer $BENCH_TOKEN" "$url_a"
    expect_status 401 "(a) bench location without a token (auth_request is active)" "$url_a"
    expect_status 200 "(b) unauthenticated bench location" -H "Authorization: Bearer $BENCH_TOKEN" "$url_b"
    expect_status 401 "(c) real /api/users/me with a forged token" \
        -H "Authorization: $(head -n1 "$BENCH_TMP/auth-forged.txt")" "$url_c"

    local ap_pid mem_before ap_log_lines0 r lc="$BENCH_LAT_CONNECTIONS"
    ap_pid="$(bench_pid auth-proxy-blue)"
    mem_before="$(bench_mem "$ap_pid")"
    ap_log_lines0="$(wc -l <"$MALL_VAR/log/auth-proxy-blue.log")"
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        # A fresh token each round, so no run can outlive an access token (15 min at most).
        if ((r > 1)); then login; fi
        bench_wrk auth-authenticated "$r" "$url_a" "" "$BENCH_TMP/auth-valid.txt"
        bench_wrk auth-unauthenticated "$r" "$url_b" "" "$BENCH_TMP/auth-valid.txt"
        bench_wrk auth-401-flood "$r" "$url_c" "" "$BENCH_TMP/auth-forged.txt"
        if ((lc > 0)); then
            bench_wrk "auth-authenticated-c${lc}" "$r" "$url_a" "" "$BENCH_TMP/auth-valid.txt" "$lc" 1
            bench_wrk "auth-unauthenticated-c${lc}" "$r" "$url_b" "" "$BENCH_TMP/auth-valid.txt" "$lc" 1
        fi
    done

    local mem_after ap_log_lines summary ratios result
    mem_after="$(bench_mem "$ap_pid")"
    ap_log_lines=$(($(wc -l <"$MALL_VAR/log/auth-proxy-blue.log") - ap_log_lines0))
    summary="$(bench_summary_cases)"
    ratios="$(jq -n --argjson s "$summary" --argjson mem "$mem_after" --arg lc "$lc" '
        def pair($a; $b): {
          throughput_ratio: ($a.rps / $b.rps),
          throughput_ratio_rounds: [range(0; $a.rps_rounds | length) | $a.rps_rounds[.] / $b.rps_rounds[.]],
          added_p50_ms: ($a.p50_ms - $b.p50_ms),
          added_p99_ms: ($a.p99_ms - $b.p99_ms),
          added_p99_ms_rounds: [range(0; $a.p99_ms_rounds | length) | $a.p99_ms_rounds[.] - $b.p99_ms_rounds[.]]
        };
        ($s["auth-authenticated"]) as $a | ($s["auth-unauthenticated"]) as $b | ($s["auth-401-flood"]) as $c |
        {
          saturated: pair($a; $b),
          unloaded: (if $s["auth-authenticated-c\($lc)"] then pair($s["auth-authenticated-c\($lc)"]; $s["auth-unauthenticated-c\($lc)"]) else null end),
          throughput_401_flood_over_unauthenticated: ($c.rps / $b.rps),
          targets: {
            throughput_ratio_min: 0.85, added_p99_ms_max: 1.0, sidecar_rss_mb_max: 30,
            throughput_met: ($a.rps / $b.rps >= 0.85),
            added_p99_met_saturated: ($a.p99_ms - $b.p99_ms <= 1.0),
            added_p99_met_unloaded: (if $s["auth-authenticated-c\($lc)"] then
              ($s["auth-authenticated-c\($lc)"].p99_ms - $s["auth-unauthenticated-c\($lc)"].p99_ms <= 1.0) else null end),
            rss_met: ($mem.hwm_kb < 30 * 1024)
          }
        }')"
    result="$(jq -n --arg kind auth --argjson machine "$(bench_machine)" --argjson params "$(params_json)" \
        --argjson cases "$summary" --argjson ratios "$ratios" \
        --argjson mem_before "$mem_before" --argjson mem_after "$mem_after" \
        --argjson ap_log_lines "$ap_log_lines" --argjson tally "$(bench_status_tally)" \
        --argjson logs "$(bench_log_sizes)" --slurpfile runs "$BENCH_TMP/runs.jsonl" \
        --arg upstream "$upstream_desc" --arg nginx_conf "$(cat "$BENCH_TMP/auth.conf")" \
        '{benchmark: $kind, machine: $machine, params: $params, upstream_work: $upstream,
          cases: $cases, ratios: $ratios,
          auth_proxy: {memory_before_runs: $mem_before, memory_after_runs: $mem_after,
                       log_lines_written_during_runs: $ap_log_lines},
          nginx_status_tally: $tally, log_sizes: $logs, bench_nginx_conf: $nginx_conf, runs: $runs}')"

    printf '\nauth benchmark: %s rounds x %ss per case, warm-up %ss; upstream work: %s\n' \
        "$BENCH_ROUNDS" "$BENCH_DURATION" "$BENCH_WARMUP" "$upstream_desc"
    print_tables "$summary"
    jq -r '
        def f2: . * 100 | round / 100;
        def met: if . == null then "not measured" elif . then "met" else "MISSED" end;
        .ratios as $r | .auth_proxy as $ap | .cases as $cs |
        "",
        "  authenticated / unauthenticated req/s: \($r.saturated.throughput_ratio | f2)"
          + " (rounds: \($r.saturated.throughput_ratio_rounds | map(f2) | join(", "))); target >= 0.85: \($r.targets.throughput_met | met)",
        "  added p99, saturated: \($r.saturated.added_p99_ms | f2) ms"
          + " (rounds: \($r.saturated.added_p99_ms_rounds | map(f2) | join(", "))); target <= 1 ms: \($r.targets.added_p99_met_saturated | met)",
        (if $r.unloaded then
          "  added p50 / p99, unloaded (\($cs | to_entries | map(select(.key | test("-c[0-9]+$"))) | .[0].value.connections) connection):"
          + " \($r.unloaded.added_p50_ms | f2) / \($r.unloaded.added_p99_ms | f2) ms"
          + " (p99 rounds: \($r.unloaded.added_p99_ms_rounds | map(f2) | join(", "))); target <= 1 ms: \($r.targets.added_p99_met_unloaded | met)"
         else empty end),
        "  401 flood / unauthenticated req/s: \($r.throughput_401_flood_over_unauthenticated | f2)",
        "  auth-proxy RSS: \($ap.memory_after_runs.rss_kb / 1024 | f2) MB after the runs, peak \($ap.memory_after_runs.hwm_kb / 1024 | f2) MB"
          + " (before: \($ap.memory_before_runs.rss_kb / 1024 | f2) MB); target < 30 MB: \($r.targets.rss_met | met)",
        "  auth-proxy token cache: \($cs | to_entries | map("\(.key) \(.value.counters.auth_cache_hits) hits / \(.value.counters.auth_cache_misses) misses") | join("; "))",
        "  auth-proxy log lines written during the runs: \($ap.log_lines_written_during_runs)"
        ' <<<"$result"
    print_observations "$result"
    write_result "$result"
}

# port_ready <port>: the process on that loopback port answers 200 on /ready.
port_ready() {
    [[ "$(http_status "http://127.0.0.1:$1/ready")" == 200 ]]
}
