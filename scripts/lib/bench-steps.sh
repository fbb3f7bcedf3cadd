#!/usr/bin/env bash
# shellcheck disable=SC2034  # the BENCH_* globals are read across scripts/bench and its libraries
# scripts/bench's steps every scenario shares (sourced by scripts/bench, not run).

# --- shared steps --------------------------------------------------------------------------------

build_release() {
    ((BENCH_BUILD)) || return 0
    log "building release binaries: cargo build --release --workspace --bins (CARGO_TARGET_DIR=${CARGO_TARGET_DIR})"
    (cd "$MALL_ROOT" && cargo build --release --workspace --bins) || die "the release build failed"
}

# expect_status <status> <description> <curl args...>
expect_status() {
    local want="$1" what="$2" got
    shift 2
    got="$(curl -s -o "$BENCH_TMP/last-body" -m 5 -w '%{http_code}' "$@" || true)"
    if [[ "$got" != "$want" ]]; then
        BENCH_FAILED=1
        die "sanity check failed: ${what}: expected ${want}, got ${got}: $(head -c 300 "$BENCH_TMP/last-body" 2>/dev/null)"
    fi
    log "sanity: ${what}: ${got}"
}

# register_and_login: a fresh customer through nginx; sets BENCH_USER_ID, BENCH_EMAIL,
# BENCH_PASSWORD and (via login) BENCH_TOKEN, BENCH_TOKEN_EXP.
register_and_login() {
    BENCH_EMAIL="bench-$(random_hex 4)@bench.local"
    BENCH_PASSWORD="$(random_hex 12)"
    curl -fsS -m 10 -H 'Content-Type: application/json' \
        -d "$(jq -n --arg e "$BENCH_EMAIL" --arg p "$BENCH_PASSWORD" '{email: $e, password: $p, name: "Bench User"}')" \
        "$MALL_URL/api/users/register" >"$BENCH_TMP/register.json" || die "could not register the bench user"
    BENCH_USER_ID="$(jq -r .id "$BENCH_TMP/register.json")"
    log "registered ${BENCH_EMAIL} (user ${BENCH_USER_ID})"
    login
}

login() {
    curl -fsS -m 10 -H 'Content-Type: application/json' \
        -d "$(jq -n --arg e "$BENCH_EMAIL" --arg p "$BENCH_PASSWORD" '{email: $e, password: $p}')" \
        "$MALL_URL/api/users/login" >"$BENCH_TMP/login.json" || die "could not log the bench user in"
    BENCH_TOKEN="$(jq -r .access_token "$BENCH_TMP/login.json")"
    BENCH_TOKEN_EXP=$(($(date +%s) + $(jq -r .expires_in "$BENCH_TMP/login.json")))
    printf 'Bearer %s\n' "$BENCH_TOKEN" >"$BENCH_TMP/auth-valid.txt"
}

# server_block <port> <comment> <locations...>: a bench-only server with the standard error
# handling and its own copy of the auth subrequest location.
server_block() {
    local port="$1" comment="$2"
    shift 2
    cat <<CONF
# ${comment}
server {
    listen 127.0.0.1:${port};
    server_name _;

    include snippets/response-headers.conf;
    include snippets/errors.conf;
    error_page 500 @e500;
    # \$auth_proxy_up and the other live-slot variables the auth subrequest uses.
    include upstreams/select.inc;

    location = /_auth {
        internal;
        include snippets/auth-subrequest.conf;
    }
$(printf '%s\n' "$@")
    location / { return 404; }

    include snippets/error-locations.conf;
}
CONF
}

# print_tables <summary json>: the results table, then CPU time per request by process.
print_tables() {
    local summary="$1"
    printf '  (p50, p99: median of the rounds; other load: share of the busy CPU time that was neither\n'
    printf '   the stack, the shared MySQL/Redis nor wrk, per round: above ~10 %% the round was disturbed)\n'
    printf '  %-26s %5s %9s %8s %8s %8s %8s  %s\n' case conns 'req/s' 'p50 ms' 'p99 ms' '>=400' 'sock.err' 'other load % (rounds)'
    jq -r 'to_entries[] | [.key, .value.connections, (.value.rps | floor), (.value.p50_ms * 100 | round / 100),
        (.value.p99_ms * 100 | round / 100), .value.status_ge_400, .value.socket_errors,
        (.value.other_load_pct_rounds | map(round | tostring) | join(" "))] | @tsv' <<<"$summary" |
        while IFS=$'\t' read -r c n rps p50 p99 st se other; do
            printf '  %-26s %5s %9s %8s %8s %8s %8s  %s\n' "$c" "$n" "$rps" "$p50" "$p99" "$st" "$se" "$other"
        done
    printf '\n  CPU time per request, microseconds (other: busy time of the rest of the host; machine: all of it)\n'
    jq -r '
        ([.[].cpu_us_per_request | keys_unsorted[]] | unique | map(select(. != "machine_busy" and . != "wrk" and . != "other"))
         + ["wrk", "other"]) as $procs
        | (["case"] + $procs + ["machine", "busy %"] | @tsv),
          (to_entries[] | [.key] + [$procs[] as $p | (.value.cpu_us_per_request[$p] // 0 | round)]
             + [(.value.cpu_us_per_request.machine_busy | round), (.value.machine_busy_pct | round)] | @tsv)
        ' <<<"$summary" | column -t -s $'\t' | sed 's/^/  /'
}

# print_observations <result json>: what the stack logged and answered during the run.
print_observations() {
    jq -r '
        "  logs (whole run): " + (.log_sizes | map("\(.file) \(.lines) lines / \(.bytes / 1048576 * 10 | round / 10) MB"
            + (if .problem_lines > 0 then " (\(.problem_lines) warn/error)" else "" end)) | join("; ")),
        "  nginx statuses (whole run, bench servers and the real one): "
            + (.nginx_status_tally | map("\(.method) \(.uri) \(.status) x\(.count)") | join("; ")),
        (.log_sizes[] | select(.problem_lines > 0) | "  last warn/error lines of \(.file):", (.last_problems[] | "    \(.)"))
        ' <<<"$1"
}

write_result() {
    local json="$1" dir="$MALL_ROOT/var/bench" file
    mkdir -p "$dir"
    file="$dir/${BENCH_KIND}-$(date -u +%Y%m%dT%H%M%SZ).json"
    printf '%s\n' "$json" >"$file"
    log "results written to ${file#"$MALL_ROOT"/}"
}

params_json() {
    jq -n --argjson d "$BENCH_DURATION" --argjson c "$BENCH_CONNECTIONS" --argjson t "$BENCH_THREADS" \
        --argjson r "$BENCH_ROUNDS" --argjson w "$BENCH_WARMUP" \
        '{duration_s: $d, connections: $c, threads: $t, rounds: $r, warmup_s: $w}'
}
