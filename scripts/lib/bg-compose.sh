#!/usr/bin/env bash
# scripts/blue-green's `compose` runtime (sourced, after common.sh, stack.sh, nginx.sh and
# bluegreen.sh): the stack of compose/docker-compose.yml on this Docker host (the EC2 case).
#
# A version is an image tag. `deploy product 3f2c1e0` runs ${MALL_IMAGE_REPO}/product-service:3f2c1e0
# (or a full image reference given instead) in the idle slot's container (product-green):
# the slot's <PART>_<SLOT>_IMAGE / _VERSION pair is written into compose/.env, so any later
# `docker compose up` keeps what the script deployed. Health, smoke tests and nginx commands
# run inside the containers with `docker compose exec` (only nginx publishes a port). The
# upstream files live in nginx's `nginx-upstreams` volume at /etc/nginx/upstreams.
# shellcheck disable=SC2034  # variables here are used by the script that sources this file
# shellcheck disable=SC2016  # the single-quoted scripts are expanded by the containers' shell

rt_init() {
    COMPOSE_FILE_PATH="${MALL_COMPOSE_FILE:-$MALL_ROOT/compose/docker-compose.yml}"
    COMPOSE_ENV_FILE="${MALL_COMPOSE_ENV_FILE:-$MALL_ROOT/compose/.env}"
    read -r -a COMPOSE <<<"${MALL_BG_COMPOSE:-$(compose_cmd || echo docker compose)}"
    COMPOSE+=(-f "$COMPOSE_FILE_PATH" --env-file "$COMPOSE_ENV_FILE")
    MALL_IMAGE_REPO="${MALL_IMAGE_REPO:-mall}"
    STATE_DIR="${MALL_BG_STATE_DIR:-/var/lib/mall/blue-green}"
    NGINX_URL="http://127.0.0.1:${MALL_HTTP_PORT:-80}"
    # Inside the containers: every service listens on 8080, nginx's internal listener is 8081.
    SLOT_PORT=8080
    NGINX_INTERNAL=8081
    [[ -f "$COMPOSE_FILE_PATH" ]] || die "no compose file at $COMPOSE_FILE_PATH (MALL_COMPOSE_FILE)"
    ((DRY_RUN)) && return 0
    [[ -f "$COMPOSE_ENV_FILE" ]] || die "no $COMPOSE_ENV_FILE; copy compose/.env.example and fill it in (docs/deploy.md)"
    have flock || die "flock is not installed (apt-get install -y util-linux)"
    have "${COMPOSE[0]}" || die "${COMPOSE[0]} is not installed (MALL_BG_COMPOSE names the compose command)"
}

rt_check_stack() {
    if ((DRY_RUN)); then
        return 0
    fi
    container_running nginx ||
        die "the compose stack's nginx is not running; start the stack first (docs/deploy.md)"
}

# container_running <service>: the service's container exists and runs (docker-compose v1's
# ps has no --status, so the engine is asked).
container_running() {
    local id
    id="$("${COMPOSE[@]}" ps -q "$1" 2>/dev/null)" || return 1
    [[ -n "$id" && "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" == true ]]
}

# slot_var <part> <slot> <IMAGE|VERSION>: the compose variable of a slot (PRODUCT_GREEN_IMAGE).
slot_var() {
    local name="${1}_${2}_${3}"
    name="${name//-/_}"
    printf '%s' "${name^^}"
}

# rt_resolve <part> <image-or-version>: sets IMAGE and VERSION. A bare tag means
# ${MALL_IMAGE_REPO}/<binary>:<tag>; a full reference keeps its registry and repository.
rt_resolve() {
    local part="$1" arg="$2" last
    if [[ "$arg" == *[/:@]* ]]; then
        IMAGE="$arg"
        last="${arg##*/}"
        if [[ "$arg" == *@sha256:* ]]; then
            VERSION="sha256-$(printf '%s' "${arg##*@sha256:}" | cut -c1-12)"
        elif [[ "$last" == *:* ]]; then
            VERSION="${last##*:}"
        else
            die "image ${arg} has no tag: name the version (the git SHA), never rely on latest"
        fi
    else
        VERSION="$arg"
        IMAGE="${MALL_IMAGE_REPO}/$(binary_of "$part"):${arg}"
    fi
}

# in_container <service> <command...>: runs a command inside a running container. Its
# stdin is /dev/null: exec forwards stdin, which might be a script being read.
in_container() {
    local svc="$1"
    shift
    "${COMPOSE[@]}" exec -T "$svc" "$@" </dev/null
}

# header_of <name>: reads an HTTP header block on stdin, prints that header's value.
header_of() {
    tr -d '\r' | awk -F': *' -v h="$1" 'tolower($1) == h { print $2; exit }' || true
}

# rt_live_slot <part>: the slot nginx sends the part's requests to: green while its marker
# exists in the nginx container's upstream volume (upstreams/select.inc), else blue.
rt_live_slot() {
    local part="$1" out
    if ((DRY_RUN)); then
        # Nothing is asked of Docker in a dry run: the recorded state, or compose's default.
        printf '%s' "${ST[live]:-blue}"
        return 0
    fi
    out="$(in_container nginx sh -c 'test -f /etc/nginx/upstreams/select.inc || exit 2
        if test -e "/etc/nginx/upstreams/$1.green"; then echo green; else echo blue; fi' sh "$part")" ||
        die "could not read the slot markers in the nginx container (is it the current compose file's?)"
    printf '%s' "$out"
}

rt_served_by_nginx() {
    ((DRY_RUN)) && return 0
    in_container nginx curl -sS -o /dev/null -D - --max-time 3 \
        "http://127.0.0.1:${NGINX_INTERNAL}/_slot/$1" 2>/dev/null | header_of x-served-by
}

rt_served_by_slot() {
    ((DRY_RUN)) && return 0
    in_container "$1-$2" curl -sS -o /dev/null -D - --max-time 3 \
        "http://127.0.0.1:${SLOT_PORT}/health" 2>/dev/null | header_of x-served-by
}

rt_slot_status() {
    local code
    code="$(in_container "$1-$2" curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
        "http://127.0.0.1:${SLOT_PORT}$3" 2>/dev/null || true)"
    printf '%s' "${code:-000}"
}

rt_slot_running() {
    ((DRY_RUN)) && return 1
    container_running "$1-$2"
}

rt_slot_logs() {
    "${COMPOSE[@]}" logs --no-color --tail 20 "$1-$2" </dev/null 2>&1 || true
}

# --- artifacts ---------------------------------------------------------------------------------

# rt_prepare_artifact <part> <version>: ARTIFACT is the image (resolved by rt_resolve),
# pulled now (unless the host has it already) so a missing image fails before anything
# changes.
rt_prepare_artifact() {
    ARTIFACT="$IMAGE"
    if ((DRY_RUN)); then
        act docker pull -q "$IMAGE"
        return 0
    fi
    if docker image inspect "$IMAGE" >/dev/null 2>&1; then
        log "${IMAGE} is on this host already"
        return 0
    fi
    log "pulling ${IMAGE}"
    docker pull -q "$IMAGE" </dev/null >&2 || die "could not pull ${IMAGE} (is the host logged in to the registry?)"
}

# rt_snapshot_live <part> <slot> <version>: ARTIFACT is the image the slot runs (its
# compose/.env entry): images are immutable, so that is all a rollback needs.
rt_snapshot_live() {
    local var
    var="$(slot_var "$1" "$2" IMAGE)"
    ARTIFACT="$(sed -n "s/^${var}=//p" "$COMPOSE_ENV_FILE" 2>/dev/null | tail -n 1)"
    [[ -n "$ARTIFACT" ]] || ARTIFACT="mall/$(binary_of "$1"):dev"
}

# --- slots -------------------------------------------------------------------------------------

# rt_start_slot <part> <slot> <version> <image>: (re)creates the slot's container from the
# image, without touching its dependencies or building anything.
rt_start_slot() {
    local part="$1" slot="$2" version="$3" image="$4" ivar vvar
    shift 4
    (($# == 0)) || die "--env is for the local runtime; a compose slot's environment is compose/docker-compose.yml's"
    ivar="$(slot_var "$part" "$slot" IMAGE)"
    vvar="$(slot_var "$part" "$slot" VERSION)"
    if ((DRY_RUN)); then
        printf '+ (in %s) %s=%s %s=%s\n' "$COMPOSE_ENV_FILE" "$ivar" "$image" "$vvar" "$version"
    else
        env_file_set "$COMPOSE_ENV_FILE" "$ivar" "$image" "$vvar" "$version"
    fi
    act env "${ivar}=${image}" "${vvar}=${version}" \
        "${COMPOSE[@]}" up -d --no-deps --no-build --force-recreate "${part}-${slot}" </dev/null
}

# rt_stop_slot <part> <slot>: SIGTERM, 30 s to drain, then SIGKILL; the container and its
# image stay for a rollback.
rt_stop_slot() {
    ((DRY_RUN)) || log "stopping $1-$2"
    act "${COMPOSE[@]}" stop -t 30 "$1-$2" </dev/null
}

# --- nginx ---------------------------------------------------------------------------------------

# rt_nginx_test <part> <slot>: nginx's config has the slot's upstream (the repository's
# upstream files define both slots; a switch changes no config).
rt_nginx_test() {
    act "${COMPOSE[@]}" exec -T nginx grep -q "^upstream ${1//-/_}_${2} {" "/etc/nginx/upstreams/$1.conf" </dev/null
}

# rt_nginx_install <part> <slot>: the switch itself: the part's marker in nginx's volume
# created (green; through a temp file and a rename) or removed (blue).
rt_nginx_install() {
    local script
    if [[ "$2" == green ]]; then
        script='echo "live slot of $1: green" >"/etc/nginx/upstreams/.$1.green.tmp" && mv -f "/etc/nginx/upstreams/.$1.green.tmp" "/etc/nginx/upstreams/$1.green"'
    else
        script='rm -f "/etc/nginx/upstreams/$1.green"'
    fi
    act "${COMPOSE[@]}" exec -T nginx sh -c "$script" sh "$1" </dev/null
}

# --- the edge (scripts/blue-green edge) ----------------------------------------------------------

# rt_resolve_edge <image-or-version>: IMAGE and VERSION of an edge image.
rt_resolve_edge() {
    if [[ "$1" == *[/:@]* ]]; then
        rt_resolve edge "$1"
    else
        VERSION="$1"
        IMAGE="${MALL_IMAGE_REPO}/edge:$1"
    fi
}

# rt_edge_version: the release nginx runs from (the `current` link's target).
rt_edge_version() {
    ((DRY_RUN)) && { printf 'unknown'; return 0; }
    in_container nginx readlink /etc/nginx/live/current 2>/dev/null | sed 's|^releases/||' || true
}

# rt_edge_install <image>: the image's release rendered, checked (nginx -t) and made
# current, in a one-off container of that image with the nginx service's environment and
# volumes (no ports, no dependencies).
rt_edge_install() {
    act env "EDGE_IMAGE=$1" "${COMPOSE[@]}" run --rm --no-deps -T nginx install </dev/null
}

# rt_edge_reload <previous version>: the running nginx checks the new release and reloads;
# when it rejects it, `current` goes back to the previous release.
rt_edge_reload() {
    local conf=/etc/nginx/live/current/nginx.conf
    if ! act "${COMPOSE[@]}" exec -T nginx nginx -t -q -c "$conf" </dev/null; then
        [[ -n "$1" ]] && act "${COMPOSE[@]}" exec -T nginx sh -c \
            'ln -sfn "releases/$1" /etc/nginx/live/.current.back && mv -T /etc/nginx/live/.current.back /etc/nginx/live/current' \
            sh "$1" </dev/null
        return 1
    fi
    act "${COMPOSE[@]}" exec -T nginx nginx -s reload -c "$conf" </dev/null
}

# rt_edge_record <image> <version>: later `compose up`s keep this edge.
rt_edge_record() {
    if ((DRY_RUN)); then
        printf '+ (in %s) EDGE_IMAGE=%s EDGE_VERSION=%s\n' "$COMPOSE_ENV_FILE" "$1" "$2"
    else
        env_file_set "$COMPOSE_ENV_FILE" EDGE_IMAGE "$1" EDGE_VERSION "$2"
    fi
}
