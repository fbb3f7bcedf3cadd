#!/usr/bin/env bash
# scripts/bench's compose runtime (sourced by scripts/bench, after bench.sh, host.sh and
# compose.sh): `scripts/bench mix --runtime compose` runs the same shopper mix against a
# private compose project started with `scripts/dev up --runtime compose` from the release
# build (images built on this host), and measures the CPU and RSS of every container's
# processes by their host pids. The catalog and MariaDB counters of the local run are not
# taken (the containers' metrics and database are not reachable from the host).

BENCH_COMPOSE_UP=0

# shellcheck disable=SC2034  # BENCH_LOAD_START is bench.sh's (bench_machine)

# bench_compose_up: the private project, shoppers' sign-in limits raised, its admin
# password in $BENCH_TMP/admin-password.
bench_compose_up() {
    BENCH_LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
    BENCH_STATE="$(mktemp -d "${TMPDIR:-/tmp}/mall-bench-compose.XXXXXX")"
    BENCH_TMP="$BENCH_STATE/bench"
    mkdir -p "$BENCH_TMP"
    compose_private_env "$BENCH_STATE" mall-bench
    # The shoppers all sign up from this host.
    export MALL_PROFILE=release MALL_IMAGE_TAG=bench REGISTER_MAX_PER_ADDRESS=1000000
    MALL_URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    log "bench compose stack: project ${COMPOSE_PROJECT_NAME}, ${MALL_URL}, state ${BENCH_STATE}"
    BENCH_COMPOSE_UP=1
    bash "$MALL_ROOT/scripts/dev" up --runtime compose >&2 || { BENCH_FAILED=1; die "the compose bench stack did not start"; }
    load_config
    compose_init
    (umask 077 && compose_admin_password >"$BENCH_TMP/admin-password") || die "could not read the admin password"
}

# bench_compose_procs: mall-load's --proc arguments (one per line: "--proc", LABEL=PIDS)
# from the host pids of the containers' processes: nginx's workers, the live slots, the
# database and Redis.
bench_compose_procs() {
    local svc id pid label
    for svc in nginx auth-proxy-blue user-blue product-blue cart-blue order-blue payment-blue gateway-sim mysql redis; do
        id="$("${COMPOSE[@]}" ps -q "$svc" 2>/dev/null)"
        [[ -n "$id" ]] || continue
        pid="$(docker inspect -f '{{.State.Pid}}' "$id")"
        label="${svc%-blue}"
        printf -- '--proc\n'
        if [[ "$svc" == nginx ]]; then
            printf 'nginx=%s\n' "$(nginx_children "$pid" | paste -sd, -)"
        else
            printf '%s=%s\n' "$label" "$pid"
        fi
    done
}

# bench_compose_down: the project and its volumes removed; the state kept after a failure.
bench_compose_down() {
    ((BENCH_COMPOSE_UP)) || return 0
    log "tearing the compose bench stack down"
    "${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || warn "compose down failed"
    local -a images=()
    mapfile -t images < <(docker images -q --filter reference='mall/*:bench')
    ((${#images[@]} == 0)) || docker image rm -f "${images[@]}" >/dev/null 2>&1 || true
    BENCH_COMPOSE_UP=0
    if ((BENCH_FAILED)); then
        log "kept the bench state: $BENCH_STATE"
    else
        rm -rf "$BENCH_STATE"
    fi
    BENCH_STATE=""
}
