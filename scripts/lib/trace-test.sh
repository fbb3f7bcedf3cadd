#!/usr/bin/env bash
# scripts/test's trace-id checks (sourced, after common.sh): the coverage audit of the
# end-to-end run with scripts/trace on what it traced, and the static checks of the
# observability configs (compose profile `observability`).

# check_trace_coverage: runs after the end-to-end suite against the same stack (before
# check_auth_down, which stops auth-proxy). The ignored e2e test traces a cart write, a
# failing cart write, an unauthenticated request and, when the order service runs, a paid
# and a declined checkout; checks each one's lines in every log; then audits every line of
# the run (e2e/tests/api/trace/coverage.rs). Then scripts/trace must tell each story: the
# answer, every part, as many lines with --json, and clear refusals.
check_trace_coverage() {
    local ids="$MALL_VAR/trace-coverage.ids" dir="$MALL_VAR/log" name id status parts out json part
    local trace="$MALL_ROOT/scripts/trace" rc n
    rm -f "$ids"
    MALL_TRACE_IDS_FILE="$ids" run_cargo test -p e2e --locked --test api -- --ignored --exact \
        trace::coverage::every_line_of_the_run_carries_its_trace_id --nocapture || return 1
    [[ -s "$ids" ]] || { warn "the coverage test wrote no trace ids to ${ids}"; return 1; }
    export MALL_TRACE_BIN="${CARGO_TARGET_DIR:-$MALL_ROOT/target}/${MALL_PROFILE:-debug}/mall-trace"
    while read -r name id status parts; do
        out="$(bash "$trace" "$id" --dir "$dir" --wide)" || { warn "scripts/trace ${id} (${name}) failed"; return 1; }
        if [[ "$out" != *"answer: ${status} after"* ]]; then
            warn "scripts/trace ${id} (${name}) does not show the answer ${status}:"$'\n'"${out}"
            return 1
        fi
        for part in nginx auth-proxy ${parts//,/ }; do
            if ! grep -Eq "^.. [0-9:.]+ +[0-9.]+ +${part} " <<<"$out"; then
                warn "scripts/trace ${id} (${name}) shows no line from ${part}:"$'\n'"${out}"
                return 1
            fi
        done
        json="$(bash "$trace" "$id" --dir "$dir" --json)" || return 1
        n="$(grep -c . <<<"$json")"
        if [[ "$out" != "trace ${id}: ${n} lines from "* ]] ||
            ! python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin]' <<<"$json"; then
            warn "scripts/trace ${id} --json printed ${n} lines, the table says: ${out%%$'\n'*}"
            return 1
        fi
        log "scripts/trace ${name}: ${out%%$'\n'*}"
    done <"$ids"
    rc=0
    bash "$trace" 'not-a-trace-id' --dir "$dir" >/dev/null 2>&1 || rc=$?
    ((rc == 64)) || { warn "scripts/trace with a malformed id exited ${rc}, not 64"; return 1; }
    rc=0
    bash "$trace" "$(random_hex 16)" --dir "$dir" >/dev/null 2>&1 || rc=$?
    ((rc == 1)) || { warn "scripts/trace with an unknown id exited ${rc}, not 1"; return 1; }
    log "trace ids: every line of the run checked; scripts/trace told $(grep -c . "$ids") stories"
}

# check_observability: the Prometheus config and the Grafana provisioning and dashboard
# parse, and hang together (scripts/lib/check-observability.py says what is checked).
check_observability() {
    have python3 || { warn "python3 is missing"; return 1; }
    if ! python3 -c 'import yaml' 2>/dev/null; then
        warn "python3 cannot import yaml: apt-get install -y python3-yaml (or pip install pyyaml)"
        return 1
    fi
    python3 "$MALL_ROOT/scripts/lib/check-observability.py" "$MALL_ROOT" || return 1
    # The profile's services resolve too (docker-compose v1 knows profiles since 1.28).
    local -a cmd
    if compose_cmd >/dev/null; then
        read -r -a cmd <<<"$(compose_cmd)"
        (cd "$MALL_ROOT" && "${cmd[@]}" --env-file compose/.env.example -f compose/docker-compose.yml \
            --profile observability config -q) || return 1
        log "compose config -q with --profile observability: ok"
    fi
}
