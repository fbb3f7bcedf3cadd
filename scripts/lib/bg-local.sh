#!/usr/bin/env bash
# scripts/blue-green's `local` runtime (sourced, after common.sh, db.sh, nginx.sh, stack.sh
# and bluegreen.sh): the processes and nginx that `scripts/dev up` started, under MALL_VAR.
#
# A version is a label. Deploying one snapshots the current build's binary into
# $MALL_VAR/releases/<part>/<version>/ (a label that exists is deployed as it was
# snapshotted, like an image tag), and the slot runs that copy with SERVICE_VERSION=<label>,
# SLOT_COLOR=<slot> and the environment scripts/dev gives the part (launch_part). The pid
# goes to $MALL_VAR/run/<part>-<slot>.pid, so `scripts/dev down` stops it like the rest.
# shellcheck disable=SC2034  # variables here are used by the script that sources this file

rt_init() {
    load_config
    RELEASES_DIR="$MALL_VAR/releases"
    STATE_DIR="${MALL_BG_STATE_DIR:-$MALL_VAR/blue-green}"
    NGINX_URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    have curl || die "curl is not installed (apt-get install -y curl)"
    have flock || die "flock is not installed (apt-get install -y util-linux)"
    have nginx || die "nginx is not installed (apt-get install -y nginx)"
}

# rt_check_stack: the local stack must be up (its nginx running).
rt_check_stack() {
    local pid
    pid="$(cat "$RUN_DIR/nginx.pid" 2>/dev/null || true)"
    pid_runs "$pid" nginx ||
        die "the local stack's nginx is not running (no live pid in $RUN_DIR/nginx.pid); start it with scripts/dev up (same MALL_VAR)"
    NGINX_MASTER="$pid"
}

# slot_url <part> <slot>: where the slot listens, bypassing nginx.
slot_url() {
    printf 'http://127.0.0.1:%s' "$(port_of "$1" "$2")"
}

# rt_live_slot <part>: the slot nginx sends the part's requests to: green while its marker
# exists (upstreams/select.inc), else blue.
rt_live_slot() {
    [[ -f "$NGINX_DIR/upstreams/select.inc" ]] ||
        die "no $NGINX_DIR/upstreams/select.inc; is the local stack set up (scripts/dev up)?"
    if [[ -e "$NGINX_DIR/upstreams/$1.green" ]]; then echo green; else echo blue; fi
}

# served_by_header <url>: the X-Served-By of the answer (empty when nothing answers).
served_by_header() {
    curl -sS -o /dev/null -D - -m 3 "$1" 2>/dev/null |
        tr -d '\r' | awk -F': *' 'tolower($1) == "x-served-by" { print $2; exit }' || true
}

# rt_served_by_nginx <part>: X-Served-By of the slot nginx sends the part's traffic to
# (the internal listener's /_slot/<part>, which proxies to the live slot's /ready).
rt_served_by_nginx() {
    served_by_header "http://127.0.0.1:${MALL_INTERNAL_PORT}/_slot/$1"
}

# rt_served_by_slot <part> <slot>: X-Served-By of the slot's own /health.
rt_served_by_slot() {
    served_by_header "$(slot_url "$1" "$2")/health"
}

# rt_slot_status <part> <slot> <path>: the HTTP status of the slot's path (000: no answer).
rt_slot_status() {
    http_status "$(slot_url "$1" "$2")$3"
}

slot_pid() {
    cat "$RUN_DIR/$(instance "$1" "$2").pid" 2>/dev/null || true
}

# rt_slot_running <part> <slot>
rt_slot_running() {
    pid_runs "$(slot_pid "$1" "$2")" "$(binary_of "$1")"
}

# rt_slot_logs <part> <slot>: the end of the slot's log, for a failure report.
rt_slot_logs() {
    tail -n 20 "$LOG_DIR/$(instance "$1" "$2").log" 2>/dev/null || true
}

# --- artifacts -------------------------------------------------------------------------------

# snapshot <source file> <part> <dir name>: copies the binary into releases/<part>/<dir>/
# (atomically); ARTIFACT is the copy's path.
snapshot() {
    local src="$1" part="$2" name="$3" binary dir
    binary="$(binary_of "$part")"
    dir="$RELEASES_DIR/$part/$name"
    act mkdir -p "$dir"
    act cp "$src" "$dir/.${binary}.tmp"
    act chmod 755 "$dir/.${binary}.tmp"
    act mv -f "$dir/.${binary}.tmp" "$dir/$binary"
    ARTIFACT="$dir/$binary"
}

# rt_prepare_artifact <part> <version>: ARTIFACT is the binary the new slot runs: the
# release of that label, or else a new snapshot of the current build.
rt_prepare_artifact() {
    local part="$1" version="$2" binary src release
    binary="$(binary_of "$part")"
    src="$BIN_DIR/$binary"
    release="$RELEASES_DIR/$part/$version/$binary"
    if [[ -x "$release" ]]; then
        if [[ -x "$src" ]] && ! cmp -s "$src" "$release"; then
            warn "$part $version is already released and differs from the current build; deploying the release (give a new build a new label)"
        fi
        log "deploying the release $release"
        ARTIFACT="$release"
        return 0
    fi
    [[ -x "$src" ]] || die "$src is missing; build it (cargo build --bin $binary)"
    ((DRY_RUN)) || log "snapshotting $src as $part $version"
    snapshot "$src" "$part" "$version"
}

# rt_snapshot_live <part> <slot> <version>: the exact binary the running slot executes
# (/proc/<pid>/exe, even when the build has replaced the file since), kept as a release so
# a rollback restarts precisely it. ARTIFACT is its path; empty when the slot does not run.
rt_snapshot_live() {
    local part="$1" slot="$2" version="$3" pid binary name release
    ARTIFACT=""
    pid="$(slot_pid "$part" "$slot")"
    binary="$(binary_of "$part")"
    pid_runs "$pid" "$binary" || return 0
    name="$version"
    release="$RELEASES_DIR/$part/$name/$binary"
    if [[ -e "$release" ]] && cmp -s "/proc/$pid/exe" "$release"; then
        ARTIFACT="$release"
        return 0
    fi
    # The label is taken by another binary (scripts/dev's default label is the crate
    # version, which does not change with every build): keep both, told apart by content.
    [[ -e "$release" ]] && name="${version}+$(sha256sum "/proc/$pid/exe" | cut -c1-8)"
    snapshot "/proc/$pid/exe" "$part" "$name"
}

# --- slots -------------------------------------------------------------------------------------

# rt_start_slot <part> <slot> <version> <artifact> [VAR=value...]
rt_start_slot() {
    local part="$1" slot="$2" version="$3" exe="$4" port db=-
    shift 4
    port="$(port_of "$part" "$slot")"
    has_db "$part" && db=db
    if [[ "$db" == db && ! -s "$SECRETS_DIR/db-${part}-password" ]]; then
        # A part `scripts/dev up` never started (it was not built then): its database first.
        check_mysql
        act ensure_service_db "$MALL_DB_PREFIX" "$part" "$(secret "db-${part}-password")"
    fi
    port_in_use "$port" && die "port $port (${part} ${slot}) is in use by something this script did not start"
    if ((DRY_RUN)); then
        act launch_part "$part" "$slot" "$port" "$db" "$exe" "SERVICE_VERSION=$version" "$@"
        return 0
    fi
    launch_part "$part" "$slot" "$port" "$db" "$exe" "SERVICE_VERSION=$version" "$@"
    log "started $(instance "$part" "$slot") (pid ${LAUNCHED_PID}) ${version} on 127.0.0.1:${port}"
}

# rt_stop_slot <part> <slot>: SIGTERM (in-flight requests finish), SIGKILL after the grace.
rt_stop_slot() {
    local inst
    inst="$(instance "$1" "$2")"
    if ((DRY_RUN)); then
        act stop_instances "$inst"
        return 0
    fi
    MALL_STOP_TIMEOUT="${MALL_STOP_TIMEOUT:-20}" stop_instances "$inst"
}

# --- nginx ---------------------------------------------------------------------------------------

# rt_nginx_test <part> <slot>: nginx's config has the slot's upstream (it has both since
# scripts/dev up; a switch changes no config, so there is nothing else to test).
rt_nginx_test() {
    act grep -q "^upstream ${1//-/_}_${2} {" "$NGINX_DIR/upstreams/$1.conf"
}

# rt_nginx_install <part> <slot>: the switch itself: the part's marker set for the slot.
rt_nginx_install() {
    act set_marker "$NGINX_DIR/upstreams" "$1" "$2"
}
