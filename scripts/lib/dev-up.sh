#!/usr/bin/env bash
# scripts/dev up (sourced by scripts/dev, not run): build, databases, every part started,
# nginx rendered and started, everything waited for until ready.

# --- up ------------------------------------------------------------------------------------

build() {
    local -a args=(build --workspace --bins)
    [[ "$MALL_PROFILE" == release ]] && args+=(--release)
    log "building: cargo ${args[*]}"
    (cd "$MALL_ROOT" && cargo "${args[@]}") || die "the build failed"
}

# check_prerequisites: before anything is built, every tool and server the stack needs;
# what is missing is installed (apt-get) and started, saying so (scripts/lib/host.sh).
check_prerequisites() {
    ensure_packages curl:curl envsubst:gettext-base nginx:nginx setsid:util-linux
    ensure_databases
}

refuse_if_running() {
    local file pid
    for file in "$RUN_DIR"/*.pid; do
        [[ -e "$file" ]] || continue
        pid="$(cat "$file")"
        split_instance "$(basename "$file" .pid)"
        if pid_runs "$pid" "$(binary_of "$SPLIT_NAME" || echo '?')"; then
            die "$(basename "$file" .pid) is already running (pid ${pid}); see scripts/dev status, or scripts/dev down"
        fi
        rm -f "$file"
    done
}

check_port_free() {
    if port_in_use "$1"; then
        die "port $1 (for $2) is already in use; stop what holds it or choose MALL_PORT_BASE/MALL_HTTP_PORT"
    fi
}

# The parts to start this time: "name binary port db slot" lines.
plan_parts() {
    local name binary db slot want row
    PLAN=("auth-proxy auth-proxy $(port_of auth-proxy blue) - blue")
    for want in $MALL_SERVICES; do
        row="$(service_row "$want")" ||
            die "MALL_SERVICES names ${want}, which is not in scripts/dev's SERVICES list"
        read -r binary _ db slot <<<"$row"
        name="$want"
        if [[ -x "$BIN_DIR/$binary" ]]; then
            PLAN+=("$name $binary $(port_of "$name" "$slot") $db $slot")
        elif [[ " ${REQUIRED_PARTS[*]} " == *" $name "* ]]; then
            die "$BIN_DIR/$binary is missing; build it (cargo build --workspace --bins) or drop --no-build"
        else
            log "skipping ${name}: ${BIN_DIR}/${binary} is not built yet"
        fi
    done
    [[ -x "$BIN_DIR/auth-proxy" ]] || die "$BIN_DIR/auth-proxy is missing; build it first"
}

prepare_dirs() {
    mkdir -p "$RUN_DIR" "$LOG_DIR/nginx" "$NGINX_DIR" "$MALL_VAR/keys/user"
    (umask 077 && mkdir -p "$SECRETS_DIR")
    chmod 700 "$SECRETS_DIR" "$MALL_VAR/keys"
}

prepare_databases() {
    local row name _binary _port db _slot
    for row in "${PLAN[@]}"; do
        read -r name _binary _port db _slot <<<"$row"
        [[ "$db" == db ]] || continue
        ensure_service_db "$MALL_DB_PREFIX" "$name" "$(secret "db-${name}-password")"
        log "database $(db_name "$MALL_DB_PREFIX" "$name") ready for user $(db_user "$MALL_DB_PREFIX" "$name")"
    done
}

# start_part <name> <binary> <port> <db> <slot>: starts one process of the current build
# (launch_part in scripts/lib/stack.sh) and remembers it for the clean-up of a failed `up`.
start_part() {
    local name="$1" binary="$2" port="$3" db="$4" slot="$5" inst
    inst="$(instance "$name" "$slot")"
    launch_part "$name" "$slot" "$port" "$db" "$BIN_DIR/$binary"
    STARTED+=("$inst")
    log "started ${inst} (pid ${LAUNCHED_PID}) on 127.0.0.1:${port}"
}

render_nginx() {
    local part
    export MALL_NGINX_USER="${MALL_NGINX_USER:-$(id -un) $(id -gn)}"
    export MALL_NGINX_PID="$NGINX_DIR/nginx.pid"
    export MALL_NGINX_LOG_DIR="$LOG_DIR/nginx"
    export MALL_NGINX_TEMP_DIR="$NGINX_DIR/temp"
    export MALL_NGINX_LISTEN="127.0.0.1:${MALL_HTTP_PORT}"
    export MALL_NGINX_INTERNAL_LISTEN="127.0.0.1:${MALL_INTERNAL_PORT}"
    export MALL_WEB_ROOT="$MALL_ROOT/web"
    export MALL_LOGIN_RATE MALL_LOGIN_BURST
    export MALL_TRUSTED_PROXY_CIDR="${MALL_TRUSTED_PROXY_CIDR:-unix:}"
    export MALL_NGINX_ERROR_LOG=stderr
    render_nginx_conf "$NGINX_DIR"
    # Both slots of every part, blue live (no markers): `up` starts the blue slots.
    for part in "${UPSTREAM_PARTS[@]}"; do
        slot_upstreams_conf "$part" "127.0.0.1:$(port_of "$part" blue)" "127.0.0.1:$(port_of "$part" green)" |
            write_atomic "$NGINX_DIR/upstreams/${part}.conf"
        set_marker "$NGINX_DIR/upstreams" "$part" blue
    done
    select_conf "$NGINX_DIR/upstreams" | write_atomic "$NGINX_DIR/upstreams/select.inc"
    nginx_cmd "$NGINX_DIR" -t -q 2>>"$LOG_DIR/nginx/error.log" ||
        die "nginx rejected the rendered config; see $LOG_DIR/nginx/error.log"
}

start_nginx() {
    local pid
    # The error log (MALL_NGINX_ERROR_LOG=stderr) through nginx/error-log-filter.awk, which
    # withholds credentials in the request lines nginx logs with an error.
    # mawk (Debian's default awk) reads a pipe in blocks unless told to read it by line.
    local -a awk=(awk)
    awk -W version 2>&1 | grep -q mawk && awk+=(-W interactive)
    (exec setsid env TZ=UTC nginx -p "$NGINX_DIR/" -c "$NGINX_DIR/nginx.conf" -g 'daemon off;') \
        2> >("${awk[@]}" -f "$MALL_ROOT/nginx/error-log-filter.awk" >>"$LOG_DIR/nginx/error.log") \
        >>"$LOG_DIR/nginx/error.log" </dev/null &
    pid=$!
    echo "$pid" >"$RUN_DIR/nginx.pid"
    STARTED+=(nginx)
    log "started nginx (pid ${pid}) on 127.0.0.1:${MALL_HTTP_PORT}"
}

# all_ready <instance...>: true when each answers 200 on /ready; fails the whole `up` at
# once when one of them has exited.
all_ready() {
    local inst name slot pid port
    for inst in "$@"; do
        split_instance "$inst"
        name="$SPLIT_NAME" slot="$SPLIT_SLOT"
        pid="$(cat "$RUN_DIR/${inst}.pid")"
        if ! pid_alive "$pid"; then
            warn "${inst} exited during start-up; the end of $LOG_DIR/${inst}.log:"
            tail -n 20 "$LOG_DIR/${inst}.log" >&2 || true
            die "${inst} did not start"
        fi
        port="$(port_of "$name" "$slot")"
        [[ "$(http_status "http://127.0.0.1:${port}/ready")" == 200 ]] || return 1
    done
}

nginx_ready() {
    local pid
    pid="$(cat "$RUN_DIR/nginx.pid")"
    pid_alive "$pid" || die "nginx exited during start-up; see $LOG_DIR/nginx/error.log"
    [[ "$(http_status "http://127.0.0.1:${MALL_HTTP_PORT}/")" == 200 &&
        "$(http_status "http://127.0.0.1:${MALL_HTTP_PORT}/.well-known/jwks.json")" == 200 ]]
}

# If `up` fails half-way, stop what it started, so the next `up` starts clean.
on_up_exit() {
    local status=$?
    if ((status != 0)) && ((${#STARTED[@]} > 0)); then
        warn "start-up failed; stopping what was started (logs stay in $LOG_DIR)"
        # nginx (started last) first, so nothing new reaches a part that is stopping.
        local -a reversed=()
        local i
        for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do reversed+=("${STARTED[i]}"); done
        stop_instances "${reversed[@]}"
    fi
}

cmd_up() {
    local build=1 row name binary port db slot admin_password
    local -a instances=()
    while (($#)); do
        case "$1" in
            --no-build) build=0 ;;
            -h | --help) usage; exit 0 ;;
            *) die "unknown option for up: $1 (see scripts/dev --help)" ;;
        esac
        shift
    done
    check_prerequisites
    ((build)) && build
    prepare_dirs
    refuse_if_running
    plan_parts
    check_port_free "$MALL_HTTP_PORT" nginx
    check_port_free "$MALL_INTERNAL_PORT" "nginx (internal listener)"
    for row in "${PLAN[@]}"; do
        read -r name binary port db slot <<<"$row"
        check_port_free "$port" "$name"
    done
    prepare_databases
    admin_password="$(secret admin-password)"

    STARTED=()
    trap on_up_exit EXIT
    for row in "${PLAN[@]}"; do
        read -r name binary port db slot <<<"$row"
        start_part "$name" "$binary" "$port" "$db" "$slot"
        instances+=("$(instance "$name" "$slot")")
    done
    render_nginx
    start_nginx
    wait_for "$MALL_READY_TIMEOUT" "every part to be ready" all_ready "${instances[@]}" ||
        die "not every part became ready in ${MALL_READY_TIMEOUT}s; see scripts/dev status and $LOG_DIR"
    log "every part is ready: ${instances[*]}"
    wait_for 30 "nginx" nginx_ready || die "nginx did not answer; see $LOG_DIR/nginx/error.log"
    trap - EXIT

    cat <<EOF

The mall is up: http://127.0.0.1:${MALL_HTTP_PORT}/
  admin login: ${MALL_ADMIN_EMAIL} / ${admin_password}
               (password in ${SECRETS_DIR}/admin-password)
  logs:        ${LOG_DIR}/ (scripts/dev logs [part])
  stop:        $(stop_hint)scripts/dev down
EOF
}

# stop_hint: the variables `down` needs when they differ from the defaults.
stop_hint() {
    local hint=""
    [[ "$MALL_VAR" != "$MALL_ROOT/var" ]] && hint+="MALL_VAR=$MALL_VAR "
    printf '%s' "$hint"
}
