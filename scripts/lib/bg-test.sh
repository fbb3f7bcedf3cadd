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

# --- compose dry run -------------------------------------------------------------------------

# expect_in <text> <pattern> <what>: fails when the fixed string is not in the text.
expect_in() {
    grep -qF -- "$2" <<<"$1" || { warn "dry run: expected ${3}: ${2}"; return 1; }
}

# shellcheck disable=SC2016  # the expected text quotes $1 as the dry run prints it
bg_dry_run_check() (
    local dir out rc=0
    dir="$(mktemp -d "${TMPDIR:-/tmp}/mall-bg-dry.XXXXXX")"
    trap 'rm -rf "$dir"' EXIT
    cp "$MALL_ROOT/compose/.env.example" "$dir/env"
    # shellcheck disable=SC2030  # this subshell's own state directory, on purpose
    export MALL_BG_STATE_DIR="$dir/state" MALL_COMPOSE_ENV_FILE="$dir/env" MALL_BG_COMPOSE="docker compose"
    local bg=(bash "$MALL_ROOT/scripts/blue-green" --runtime compose --dry-run)
    local compose="docker compose -f $MALL_ROOT/compose/docker-compose.yml --env-file $dir/env"

    out="$("${bg[@]}" deploy product 3f2c1e0 2>&1)" || { warn "dry-run deploy failed: $out"; return 1; }
    expect_in "$out" "+ docker pull -q mall/product-service:3f2c1e0" "the image pulled first" || rc=1
    expect_in "$out" "PRODUCT_GREEN_IMAGE=mall/product-service:3f2c1e0 PRODUCT_GREEN_VERSION=3f2c1e0" "the idle slot's pair in the env file" || rc=1
    expect_in "$out" "$compose up -d --no-deps --no-build --force-recreate product-green" "the idle slot started alone" || rc=1
    expect_in "$out" "3 consecutive /ready passes of product-green" "the readiness wait" || rc=1
    expect_in "$out" "X-Served-By product-green@3f2c1e0" "the smoke test" || rc=1
    expect_in "$out" "$compose exec -T nginx grep -q \\^upstream\\ product_green\\ \\{ /etc/nginx/upstreams/product.conf" "the slot's upstream checked" || rc=1
    expect_in "$out" 'mv\ -f\ \"/etc/nginx/upstreams/.\$1.green.tmp\"\ \"/etc/nginx/upstreams/\$1.green\" sh product' "the green marker written" || rc=1
    expect_in "$out" "$compose stop -t 30 product-blue" "the old slot stopped" || rc=1
    grep -q -e 'nginx -s reload' -e 'nginx -t' <<<"$out" && { warn "dry run: a switch reloads or re-tests nginx"; rc=1; }
    # Order: the marker after the smoke test, the old slot stopped after the confirmation.
    grep -n -e 'smoke-test product-green' -e 'green\\" sh product' -e 'confirm through nginx' -e 'stop -t 30 product-blue' \
        <<<"$out" | cut -d: -f1 | sort -c -n 2>/dev/null || { warn "dry run: smoke, switch, confirm, stop out of order"; rc=1; }
    [[ "$(grep -c -e 'smoke-test product-green' -e 'green\\" sh product' -e 'confirm through nginx' -e 'stop -t 30 product-blue' <<<"$out")" == 4 ]] ||
        { warn "dry run: expected one smoke test, one marker, one confirmation and one stop"; rc=1; }

    out="$("${bg[@]}" deploy auth-proxy 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mall/auth-proxy:9a8b7c6 2>&1)" || rc=1
    expect_in "$out" "AUTH_PROXY_GREEN_VERSION=9a8b7c6" "the tag of a full reference as the version" || rc=1
    expect_in "$out" '\"/etc/nginx/upstreams/\$1.green\" sh auth-proxy' "auth-proxy switched like the services" || rc=1

    # A recorded state: green live, blue kept. Rollback starts blue with its image.
    mkdir -p "$dir/state/state"
    printf '%s\n' part=product live=green since=2026-01-01T00:00:00Z by=ci action=deploy \
        blue_version=1a2b3c4 blue_artifact=registry.example/mall/product-service:1a2b3c4 \
        green_version=3f2c1e0 green_artifact=registry.example/mall/product-service:3f2c1e0 \
        >"$dir/state/state/product.state"
    out="$("${bg[@]}" rollback product 2>&1)" || { warn "dry-run rollback failed: $out"; return 1; }
    expect_in "$out" "PRODUCT_BLUE_IMAGE=registry.example/mall/product-service:1a2b3c4 PRODUCT_BLUE_VERSION=1a2b3c4" "the previous image" || rc=1
    expect_in "$out" 'rm\ -f\ \"/etc/nginx/upstreams/\$1.green\" sh product' "the switch back to blue (marker removed)" || rc=1
    expect_in "$out" "$compose stop -t 30 product-green" "green stopped after the rollback" || rc=1

    # Refused: latest, an unknown part, --env with compose. Nothing written by a dry run.
    "${bg[@]}" deploy product latest >/dev/null 2>&1 && { warn "dry run accepted latest"; rc=1; }
    "${bg[@]}" deploy nginx 1 >/dev/null 2>&1 && { warn "dry run accepted part nginx"; rc=1; }
    "${bg[@]}" deploy product 1 --env A=b >/dev/null 2>&1 && { warn "compose accepted --env"; rc=1; }
    [[ ! -e "$dir/state/audit.log" ]] || { warn "a dry run wrote the audit log"; rc=1; }
    cmp -s "$MALL_ROOT/compose/.env.example" "$dir/env" || { warn "a dry run changed the env file"; rc=1; }
    ((rc == 0)) && log "compose dry run: deploy, full image reference, rollback and refusals as expected"
    return "$rc"
)

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
