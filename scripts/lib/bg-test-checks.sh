#!/usr/bin/env bash
# The blue/green test's verdicts (sourced through scripts/lib/bg-test.sh): the load's
# summary, zero failed requests, and the audit log's record of each action.

# load_summary <json>: one line about a load run.
load_summary() {
    jq -r '"sent \(.sent), answered \(.answered), non-2xx \(.non_2xx) \(.by_status | tojson);"
        + " wrk socket errors: connect \(.wrk.errors.connect), read \(.wrk.errors.read),"
        + " write \(.wrk.errors.write), timeout \(.wrk.errors.timeout); latency p50"
        + " \(.latency_us.p50 / 1000) ms, p99 \(.latency_us.p99 / 1000) ms, max \(.latency_us.max / 1000) ms"' "$1"
}

# bg_check_results <close json> <keep-alive json>: the verdict.
bg_check_results() {
    local strict="$1" keep="$2" sent answered bad errors nginx_bad served want ok=1
    log "load, new connection per request: $(load_summary "$strict")"
    log "load, keep-alive connections:     $(load_summary "$keep")"
    served="$(jq -c -s '[.[].served_by | to_entries[]] | group_by(.key)
        | map({ key: .[0].key, value: (map(.value) | add) }) | from_entries' "$strict" "$keep")"
    log "answers came from: ${served}"
    nginx_bad="$(grep '"user_agent":"mall-bluegreen-' "$MALL_VAR/log/nginx/access.log" |
        grep -vc '"status":200,' || true)"
    log "nginx logged $(load_lines close) + $(load_lines keepalive) load requests, ${nginx_bad} of them not 200"

    sent="$(jq .sent "$strict")" answered="$(jq .answered "$strict")" bad="$(jq .non_2xx "$strict")"
    errors="$(jq '.wrk.errors | .connect + .read + .write + .timeout' "$strict")"
    ((sent >= BG_MIN_REQUESTS)) || { warn "only ${sent} requests (at least ${BG_MIN_REQUESTS} wanted)"; ok=0; }
    ((sent == answered)) || { warn "$((sent - answered)) requests were sent but never answered"; ok=0; }
    ((bad == 0 && nginx_bad == 0)) || { warn "${bad} non-2xx answers (nginx logged ${nginx_bad} non-200)"; ok=0; }
    ((errors == 0)) || { warn "${errors} socket errors on new connections"; ok=0; }

    # Keep-alive connections count the same: a switch closes no connection (no reload), so
    # any reset, close or timeout a keep-alive client sees is a failure.
    sent="$(jq .sent "$keep")" answered="$(jq .answered "$keep")" bad="$(jq .non_2xx "$keep")"
    errors="$(jq '.wrk.errors | .connect + .read + .write + .timeout' "$keep")"
    ((sent == answered)) || { warn "keep-alive load: $((sent - answered)) requests sent but never answered"; ok=0; }
    ((bad == 0 && errors == 0)) || { warn "keep-alive load: ${bad} non-2xx, ${errors} socket errors (resets, closes, timeouts)"; ok=0; }

    for want in "product-blue@$P0" product-green@v2 cart-blue@ cart-green@v2 user-blue@ user-green@v2; do
        grep -q "\"${want}" <<<"$served" || { warn "no load answer came from ${want}"; ok=0; }
    done
    ((ok)) && log "zero downtime: $(jq .sent "$strict") requests on new connections and ${sent} on keep-alive ones, 0 failed (no reset, no close, no timeout); every answer 2xx"
    ((ok))
}

bg_check_audit() {
    local got want
    got="$(jq -r 'select(.outcome != "started") | [.action, .part, .to_version, .outcome, (.stage // "-")] | join(" ")' \
        "$(bg_state_dir)/audit.log")"
    want="deploy product v2 ok -
rollback product $P0 ok -
deploy product never-ready failed ready
deploy auth-proxy v2 ok -
deploy cart v2 ok -
deploy user v2 ok -"
    [[ "$got" == "$want" ]] || { warn "the audit log says:"$'\n'"${got}"$'\n'"expected:"$'\n'"${want}"; return 1; }
    log "audit log: every action with its outcome (the refused deploy took no lock and wrote nothing)"
    bg status >&2
}
