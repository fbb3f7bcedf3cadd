#!/usr/bin/env bash
# scripts/test's compose stage (sourced by scripts/test, after common.sh, host.sh and
# compose.sh): the black-box suite against the mall in containers on this Docker host.
#
#   run_compose_e2e  `scripts/dev up --runtime compose` (the README's command) as a private
#                    compose project on a free port, with an env file of its own; the
#                    whole e2e suite through its nginx; scripts/trace on a request from
#                    `docker compose logs`; the crash test (e2e crash::) with its kill -9 of
#                    the order container's process mid-checkout, the container brought back
#                    by its restart policy; then faults: a service container recreated
#                    at a new address is reached without a reload, the database container
#                    stopped and started again (503 with the standard body meanwhile,
#                    recovery by itself); always `down --volumes` afterwards.
#
# The suite reads logs as files (MALL_LOG_DIR): `docker logs -f` of every container is
# written where scripts/dev would put them. The key-rotation test runs keygen in a one-off
# container on the user service's secret volume (docs/deploy.md "Rotating the signing
# key"), and the checkout tests ask the gateway simulator at its address on the project's
# own network.
#
# run_compose_e2e runs in a subshell, so nothing of its environment reaches other steps.

CE_DIR=""
CE_UP=0
CE_FAILED=0
CE_FOLLOWERS=()

ce_cleanup() {
    local rc=$? pid
    ((rc == 0)) || CE_FAILED=1
    for pid in "${CE_FOLLOWERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n "$CE_DIR" ]] || return 0
    if ((CE_FAILED && CE_UP)); then
        "${COMPOSE[@]}" ps >&2 || true
        "${COMPOSE[@]}" logs --no-color --tail 25 >&2 || true
    fi
    if ((CE_UP)); then
        "${COMPOSE[@]}" down --volumes --remove-orphans >/dev/null 2>&1 || warn "compose down failed"
    fi
    if ((CE_FAILED)); then
        log "kept the compose test's state for inspection: $CE_DIR"
    else
        rm -rf "$CE_DIR"
    fi
}

# ce_container <service>: the container id of a compose service.
ce_container() {
    "${COMPOSE[@]}" ps -q "$1" 2>/dev/null
}

# ce_follow_logs: every container's log into MALL_LOG_DIR, as the local runtime lays it out
# (<part>-<slot>.log; nginx's access log is its stdout, its error log its stderr).
ce_follow_logs() {
    local svc id
    mkdir -p "$MALL_LOG_DIR/nginx"
    for svc in $("${COMPOSE[@]}" ps --services 2>/dev/null); do
        id="$(ce_container "$svc")"
        [[ -n "$id" ]] || continue
        case "$svc" in
            nginx) docker logs -f "$id" >"$MALL_LOG_DIR/nginx/access.log" 2>"$MALL_LOG_DIR/nginx/error.log" & ;;
            init | mysql | redis) docker logs -f "$id" >"$MALL_LOG_DIR/${svc}.txt" 2>&1 & ;;
            *) docker logs -f "$id" >"$MALL_LOG_DIR/${svc}.log" 2>&1 & ;;
        esac
        CE_FOLLOWERS+=($!)
    done
}

# ce_e2e_env: what the e2e suite needs, pointed at the containers.
ce_e2e_env() {
    local volume gateway_ip
    MALL_URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    MALL_ADMIN_EMAIL="${MALL_ADMIN_EMAIL:-admin@mall.local}"
    MALL_ADMIN_PASSWORD="$(compose_admin_password)" || return 1
    volume="$(docker volume ls -q --filter "label=com.docker.compose.project=${COMPOSE_PROJECT_NAME}" \
        --filter label=com.docker.compose.volume=secrets-user)"
    [[ -n "$volume" ]] || { warn "no secrets-user volume in project ${COMPOSE_PROJECT_NAME}"; return 1; }
    mkdir -p "$MALL_VAR/keys"
    ln -sfn "$(docker volume inspect -f '{{.Mountpoint}}' "$volume")/jwt" "$MALL_VAR/keys/user"
    MALL_USER_SERVICE_BIN="$MALL_VAR/user-service-keygen"
    cat >"$MALL_USER_SERVICE_BIN" <<EOF
#!/bin/sh
# keygen for the compose test stack: in a one-off container of the user image, on the user
# service's secret volume, as the services' user (the path the test passes is this host's).
exec docker run --rm --network none -u 10001:10001 -v ${volume}:/run/mall \
    mall/user-service:${MALL_IMAGE_TAG} keygen --keys-dir /run/mall/jwt
EOF
    chmod +x "$MALL_USER_SERVICE_BIN"
    gateway_ip="$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' \
        "$(ce_container gateway-sim)")"
    [[ -n "$gateway_ip" ]] || { warn "the gateway simulator has no address"; return 1; }
    MALL_GATEWAY_URL="http://${gateway_ip}:8080"
    export MALL_URL MALL_ADMIN_EMAIL MALL_ADMIN_PASSWORD MALL_LOG_DIR MALL_VAR \
        MALL_USER_SERVICE_BIN MALL_GATEWAY_URL
}

# ce_traced <id>: scripts/trace finds the id in the compose logs.
ce_traced() {
    bash "$MALL_ROOT/scripts/trace" "$1" --compose >/dev/null 2>&1
}

# ce_trace_one: a request through the compose stack, then scripts/trace on its id from
# `docker compose logs` must show nginx, auth-proxy and the cart service.
ce_trace_one() {
    local id out
    id="$(random_hex 16)"
    curl -sS -o /dev/null -m 10 -H "X-Trace-Id: ${id}" "${MALL_URL}/api/cart" || return 1
    wait_for 10 "the trace's lines in the compose logs" ce_traced "$id" || true
    out="$(bash "$MALL_ROOT/scripts/trace" "$id" --compose --wide)" || { warn "scripts/trace ${id} --compose failed"; return 1; }
    grep -q "answer: 401 after" <<<"$out" || { warn "scripts/trace shows no 401 answer:"$'\n'"$out"; return 1; }
    grep -Eq '^.. [0-9:.]+ +[0-9.]+ +auth-proxy ' <<<"$out" || { warn "scripts/trace shows no auth-proxy line:"$'\n'"$out"; return 1; }
    log "scripts/trace --compose: ${out%%$'\n'*}"
}

# ce_addr <service>: the container's address on the project's network.
ce_addr() {
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(ce_container "$1")"
}

# ce_nginx_workers: the pids of nginx's worker processes (a reload replaces them; the cache
# loader, which exits on its own a minute after the start, is not one of them).
ce_nginx_workers() {
    local pid
    for pid in $(nginx_children "$(docker inspect -f '{{.State.Pid}}' "$(ce_container nginx)")"); do
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q '^nginx: worker process' && echo "$pid"
    done | sort | paste -sd, -
}

# ce_ok <url> [curl args]: the GET answers 200.
ce_ok() {
    local url="$1"
    shift
    [[ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "$@" "$url")" == 200 ]]
}

ce_status() {
    curl -s -o "$CE_DIR/body" -D "$CE_DIR/headers" -w '%{http_code}' -m 10 "$@" || true
}

# ce_fault_new_address: product-blue recreated with another address (a placeholder takes
# its old one meanwhile); nginx reaches the new container within seconds, with the same
# workers (no reload).
ce_fault_new_address() {
    local old new workers placeholder net
    old="$(ce_addr product-blue)"
    workers="$(ce_nginx_workers)"
    [[ -n "$workers" ]] || { warn "faults: no nginx worker found in the nginx container"; return 1; }
    net="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$(ce_container product-blue)")"
    "${COMPOSE[@]}" stop -t 10 product-blue >/dev/null 2>&1 || return 1
    placeholder="$(docker run -d --rm --network "$net" --ip "$old" --entrypoint sleep "mall/product-service:${MALL_IMAGE_TAG}" 120 2>/dev/null)" ||
        placeholder="$(docker run -d --rm --network "$net" --entrypoint sleep "mall/product-service:${MALL_IMAGE_TAG}" 120)"
    "${COMPOSE[@]}" up -d --no-deps --no-build --force-recreate product-blue >/dev/null 2>&1 || return 1
    docker rm -f "$placeholder" >/dev/null 2>&1 || true
    new="$(ce_addr product-blue)"
    [[ -n "$new" && "$new" != "$old" ]] || { warn "product-blue kept its address ${old}"; return 1; }
    wait_for 60 "the recreated product-blue through nginx" ce_ok "$MALL_URL/api/products?size=1" || return 1
    [[ "$(ce_nginx_workers)" == "$workers" ]] || { warn "nginx's workers changed (a reload?)"; return 1; }
    log "faults: product-blue recreated at ${new} (was ${old}); nginx reached it without a reload"
}

# ce_fault_database: the database container stopped: a DB-backed request answers 503 with
# the standard body and Retry-After within a few seconds; started again, the same request
# answers 200 again with nobody restarting anything else.
ce_fault_database() {
    local token status t0
    token="$(curl -sS -m 10 -X POST -H 'Content-Type: application/json' \
        -d "{\"email\":\"${MALL_ADMIN_EMAIL}\",\"password\":\"${MALL_ADMIN_PASSWORD}\"}" \
        "$MALL_URL/api/users/login" | jq -r .access_token)"
    [[ -n "$token" && "$token" != null ]] || { warn "faults: could not sign in"; return 1; }
    "${COMPOSE[@]}" stop -t 20 mysql >/dev/null 2>&1 || return 1
    t0=$SECONDS
    status="$(ce_status -H "Authorization: Bearer ${token}" "$MALL_URL/api/orders")"
    if [[ "$status" != 503 ]] || ! jq -e '.error.code == "service_unavailable" and (.error.trace_id | test("^[0-9a-f]{32}$"))' "$CE_DIR/body" >/dev/null ||
        ! grep -qi '^retry-after:' "$CE_DIR/headers"; then
        warn "faults: with the database stopped, GET /api/orders answered ${status} after $((SECONDS - t0))s: $(head -c 300 "$CE_DIR/body")"
        "${COMPOSE[@]}" start mysql >/dev/null 2>&1
        return 1
    fi
    log "faults: database stopped: GET /api/orders answered 503 service_unavailable with Retry-After in $((SECONDS - t0))s"
    "${COMPOSE[@]}" start mysql >/dev/null 2>&1 || return 1
    t0=$SECONDS
    wait_for 120 "GET /api/orders to answer 200 again" ce_ok "$MALL_URL/api/orders" -H "Authorization: Bearer ${token}" ||
        return 1
    log "faults: database started again: the order service answered 200 again after $((SECONDS - t0))s, by itself"
}

# ce_crash: e2e's crash test on the containers: its kill -9 hits the order container's
# main process (as a crash or the OOM killer would), the restart policy brings the
# container back (nobody restarts it), every order settles. The test reads the databases
# at the database container's address with its root password.
ce_crash() {
    local restarts_before restarts_after out="$CE_DIR/crash.out"
    cat >"$MALL_VAR/crash-pid" <<EOF
#!/bin/sh
# The host pid of a compose service's main process (e2e crash test hook).
id="\$(docker ps -q --filter label=com.docker.compose.project=${COMPOSE_PROJECT_NAME} --filter "label=com.docker.compose.service=\$1")"
exec docker inspect -f '{{.State.Pid}}' "\$id"
EOF
    cat >"$MALL_VAR/crash-restart" <<EOF
#!/bin/sh
# The order container back by its restart policy, healthy (e2e crash test hook): waits only.
i=0
while [ \$i -lt 240 ]; do
    id="\$(docker ps -q --filter label=com.docker.compose.project=${COMPOSE_PROJECT_NAME} --filter "label=com.docker.compose.service=\$1-blue")"
    [ -n "\$id" ] && [ "\$(docker inspect -f '{{.State.Health.Status}}' "\$id")" = healthy ] && exit 0
    sleep 0.5
    i=\$((i + 1))
done
echo "\$1-blue did not come back healthy within 120 s" >&2
exit 1
EOF
    chmod +x "$MALL_VAR/crash-pid" "$MALL_VAR/crash-restart"
    restarts_before="$(docker inspect -f '{{.RestartCount}}' "$(ce_container order-blue)")"
    MALL_CRASH_PID_COMMAND="$MALL_VAR/crash-pid" MALL_CRASH_RESTART_COMMAND="$MALL_VAR/crash-restart" \
        MALL_DB_PREFIX="" MALL_MYSQL_HOST="$(ce_addr mysql)" MALL_MYSQL_PORT=3306 MALL_MYSQL_ROOT_USER=root \
        MALL_MYSQL_ROOT_PASSWORD="$("${COMPOSE[@]}" exec -T mysql cat /run/mall/root-password </dev/null)" \
        run_cargo test -p e2e --locked --test api -- --ignored --exact \
        crash::crash_recovery_settles_every_order_without_losing_money_or_stock 2>&1 | tee "$out" || return 1
    grep -q '^test result: ok\. 1 passed' "$out" || { warn "the crash test did not run on the containers"; return 1; }
    restarts_after="$(docker inspect -f '{{.RestartCount}}' "$(ce_container order-blue)")"
    ((restarts_after > restarts_before)) ||
        { warn "order-blue was not restarted by its policy (restarts ${restarts_before} -> ${restarts_after})"; return 1; }
    log "crash on the containers: order-blue killed mid-checkout, restarted by its policy (${restarts_before} -> ${restarts_after} restarts), every order settled"
}

run_compose_e2e() (
    trap ce_cleanup EXIT
    trap 'CE_FAILED=1; exit 130' INT TERM
    CE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mall-compose-e2e.XXXXXX")"
    compose_private_env "$CE_DIR" mall-e2e
    export MALL_LOGIN_RATE="${MALL_E2E_LOGIN_RATE:-100r/s}" MALL_LOGIN_BURST=200 REGISTER_MAX_PER_ADDRESS=100000
    log "compose e2e stack: project ${COMPOSE_PROJECT_NAME}, http://127.0.0.1:${MALL_HTTP_PORT}, state ${CE_DIR}"
    CE_UP=1
    bash "$MALL_ROOT/scripts/dev" up --runtime compose || return 1
    load_config
    compose_init
    MALL_LOG_DIR="$MALL_VAR/log"
    ce_follow_logs
    ce_e2e_env || return 1
    # forwarded:: is the local stack's only: Docker's port proxy shows every connection from
    # the host with one address, so no test connection can come from a trusted proxy.
    run_cargo test -p e2e --locked -- --skip forwarded:: || return 1
    ce_trace_one || return 1
    ce_crash || return 1
    ce_fault_new_address || return 1
    ce_fault_database
)
