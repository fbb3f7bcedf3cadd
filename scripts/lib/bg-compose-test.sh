#!/usr/bin/env bash
# scripts/test's blue/green test on real containers (sourced by scripts/test, after
# bg-test.sh and compose-test.sh): the same steps, load and verdict as run_bluegreen
# (bg-test.sh), through `scripts/blue-green --runtime compose` against a private compose
# project started with `scripts/dev up --runtime compose`. The versions deployed are images
# built here: v2 and v3 are the current build under another tag, never-ready is the
# product image pointed at a database port nothing listens on. Then, under a new load, an
# edge deploy (scripts/blue-green edge): a new storefront page goes live with no failed
# request.
#
# run_bluegreen_compose runs in a subshell; the hooks below replace bg-test.sh's local ones
# only there.

bgc_cleanup() {
    local rc=$? pid
    ((rc == 0)) || BG_FAILED=1
    for pid in "${BG_WRK_PIDS[@]}" "${CE_FOLLOWERS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    [[ -n "$BG_DIR" ]] || return 0
    if ((BG_FAILED && BG_UP)); then
        "${COMPOSE[@]}" ps >&2 || true
        tail -n 25 "$MALL_VAR/log/nginx/error.log" "$(bg_state_dir)/audit.log" >&2 2>/dev/null || true
    fi
    if ((BG_UP)); then
        "${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || warn "compose down failed"
    fi
    docker image rm -f "${BGC_IMAGES[@]}" >/dev/null 2>&1 || true
    if ((BG_FAILED)); then
        log "kept the compose blue/green test's state for inspection: $BG_DIR"
    else
        rm -rf "$BG_DIR"
    fi
}

# bgc_images: the versions the steps deploy.
bgc_images() {
    local bin tag
    BGC_IMAGES=()
    for bin in product-service auth-proxy cart-service user-service; do
        for tag in v2 v3; do
            docker tag "mall/${bin}:${MALL_IMAGE_TAG}" "mall/${bin}:${tag}" || return 1
            BGC_IMAGES+=("mall/${bin}:${tag}")
        done
    done
    # Flags override the environment: whatever compose sets, this one never gets ready.
    printf 'FROM mall/product-service:%s\nENTRYPOINT ["/usr/local/bin/mall-service", "--database-url", "mysql://nobody@127.0.0.1:1/none"]\n' \
        "$MALL_IMAGE_TAG" | docker build -q -t mall/product-service:never-ready - >/dev/null || return 1
    BGC_IMAGES+=(mall/product-service:never-ready)
}

# --- the compose runtime's hooks (bg-test.sh has the local ones) ------------------------------

# shellcheck disable=SC2317  # the functions are called later, by bg-test.sh's steps
bgc_hooks() {
    bg_slot_stopped() {
        local id
        id="$(ce_container "$1-$2")"
        [[ -z "$id" || "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" != true ]]
    }
    bg_release_kept() {
        docker image inspect "mall/$(binary_of "$1"):$2" >/dev/null 2>&1
    }
    bg_deploy_never_ready() {
        bg deploy product never-ready --ready-timeout 8
    }
    bg_slot_probe() {
        "${COMPOSE[@]}" exec -T nginx curl -sS -o /dev/null -D - -m 5 "http://127.0.0.1:8081/_slot/$1" \
            </dev/null 2>/dev/null | tr -d '\r' | awk -F': *' 'tolower($1) == "x-served-by" { print $2; exit }' || true
    }
    bg_admin_password() {
        compose_admin_password
    }
}

page_marked() {
    curl -sS -m 5 "$URL/" | grep -q 'edge v2'
}

# bgc_edge_step: mall/edge:v2 (this tree's nginx/ and web/, the page marked) shipped with
# `scripts/blue-green edge v2` under load on new connections: the page changes, every
# request is answered 2xx with no socket error.
bgc_edge_step() {
    local tree out sent answered bad errors pid base
    tree="$BG_DIR/edge-v2"
    mkdir -p "$tree"
    cp -R "$MALL_ROOT/nginx" "$MALL_ROOT/web" "$tree/"
    printf '<!-- edge v2 -->\n' >>"$tree/web/index.html"
    NGINX_IMAGE="$(sed -n 's/^NGINX_IMAGE=//p' "$MALL_COMPOSE_ENV_FILE")"
    export NGINX_IMAGE
    build_edge_image "$tree" v2
    BGC_IMAGES+=(mall/edge:v2)
    page_marked && { warn "the page is marked before the edge deploy"; return 1; }
    rm -f "$BG_DIR/load.stop" "$BG_DIR/load-close.json"
    BG_WRK_PIDS=()
    base="$(load_lines close)"
    bg_start_load close 4 || return 1
    wait_for 30 "the load to reach nginx" at_least_lines $((base + 200)) close || return 1
    bg edge v2 || { warn "scripts/blue-green edge v2 failed"; return 1; }
    wait_for 10 "the new page" page_marked || return 1
    base="$(load_lines close)"
    wait_for 30 "load on the new release" at_least_lines $((base + 200)) close || return 1
    touch "$BG_DIR/load.stop"
    wait_for 15 "the load's last requests to finish" lines_settled || true
    for pid in "${BG_WRK_PIDS[@]}"; do
        kill -INT "$pid"
        wait "$pid" || { warn "wrk failed: $(cat "$BG_DIR/wrk-close.txt")"; return 1; }
    done
    BG_WRK_PIDS=()
    out="$BG_DIR/load-close.json"
    [[ -s "$out" ]] || { warn "wrk wrote no results: $(cat "$BG_DIR/wrk-close.txt")"; return 1; }
    log "load during the edge deploy: $(load_summary "$out")"
    sent="$(jq .sent "$out")" answered="$(jq .answered "$out")" bad="$(jq .non_2xx "$out")"
    errors="$(jq '.wrk.errors | .connect + .read + .write + .timeout' "$out")"
    ((sent > 0 && sent == answered && bad == 0 && errors == 0)) ||
        { warn "the edge deploy failed requests: sent ${sent}, answered ${answered}, non-2xx ${bad}, socket errors ${errors}"; return 1; }
    log "edge v2 is live: the new page is served; ${sent} requests during the deploy, 0 failed"
}

run_bluegreen_compose() (
    trap bgc_cleanup EXIT
    trap 'BG_FAILED=1; exit 130' INT TERM
    bg_ensure_tools
    BG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mall-bluegreen-compose.XXXXXX")"
    compose_private_env "$BG_DIR" mall-bg
    export MALL_BG_STATE_DIR="$BG_DIR/blue-green" MALL_BG_RUNTIME=compose MALL_LOGIN_RATE=100r/s MALL_LOGIN_BURST=200
    URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    log "compose blue/green stack: project ${COMPOSE_PROJECT_NAME}, ${URL}, state ${BG_DIR}"
    BG_UP=1
    bash "$MALL_ROOT/scripts/dev" up --runtime compose || return 1
    load_config
    compose_init
    export MALL_LOG_DIR="$MALL_VAR/log"
    ce_follow_logs
    bgc_images || return 1
    bgc_hooks
    bg_zero_downtime || return 1
    bgc_edge_step
)
