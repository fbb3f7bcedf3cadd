#!/usr/bin/env bash
# The compose runtime of scripts/dev and scripts/test (sourced, after common.sh and
# host.sh): builds every image the compose file needs on a Docker host that cannot pull
# (root filesystems from Debian's packages with mmdebstrap, `docker import`, then
# compose/Dockerfile and compose/standins/), then runs compose/docker-compose.yml itself,
# choosing images only through its variables.
#
# Variables: MALL_HTTP_PORT [8080]; MALL_COMPOSE_ENV_FILE [compose/.env], the env file every
# compose command here uses (the images chosen and the port are written into it, settings of
# its own are kept; scripts/blue-green and scripts/trace read the same file);
# COMPOSE_PROJECT_NAME [compose's default: the file's folder, `compose`]; MALL_PROFILE
# [debug] (the binaries baked into the images); MALL_IMAGE_TAG [dev].

MALL_IMAGE_CACHE="${MALL_CACHE}/images"
# Raise to rebuild every cached root filesystem (e.g. after a Debian point release).
MALL_ROOTFS_REVISION=1
MALL_BINARIES=(auth-proxy user-service product-service cart-service order-service payment-service gateway-sim mall-init)
DEBIAN_MIRROR="${MALL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# compose_cmd: prints the compose command available here (v2 plugin or v1 binary).
compose_cmd() {
    if have docker && docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    elif have docker-compose; then
        echo docker-compose
    else
        return 1
    fi
}

# ensure_docker: the engine answers and a compose tool is installed.
ensure_docker() {
    have docker || die "docker is not installed; on Debian: apt-get install -y docker.io docker-compose"
    docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running? are you in the docker group?)"
    compose_cmd >/dev/null || ensure_packages docker-compose:docker-compose
    ensure_packages mmdebstrap:mmdebstrap strip:binutils
}

# rootfs_image <name> <suite> <packages,comma,separated>: prints the tag of an imported root
# filesystem with those packages; the tarball is cached by suite, packages and revision.
rootfs_image() {
    local name="$1" suite="$2" packages="$3" key tar tag sources
    key="$(printf '%s %s %s %s' "$suite" "$packages" "$MALL_ROOTFS_REVISION" "$DEBIAN_MIRROR" | sha256sum | cut -c1-12)"
    tag="mall-rootfs/${name}:${key}"
    if docker image inspect "$tag" >/dev/null 2>&1; then
        printf '%s' "$tag"
        return 0
    fi
    mkdir -p "$MALL_IMAGE_CACHE"
    tar="$MALL_IMAGE_CACHE/${name}-${key}.tar"
    if [[ ! -s "$tar" ]]; then
        sources="deb ${DEBIAN_MIRROR} ${suite} main"
        [[ "$suite" == bookworm ]] && sources+=$'\n'"deb ${DEBIAN_MIRROR} bookworm-updates main"$'\n'"deb ${DEBIAN_MIRROR}-security bookworm-security main"
        log "building the ${name} root filesystem from Debian ${suite} (${packages}) with mmdebstrap; cached in ${tar}"
        # Check-Valid-Until: a mirror may serve a snapshot whose Release file has expired.
        as_root mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" \
            --aptopt='Acquire::Check-Valid-Until "false"' \
            --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            "$suite" "$tar.tmp" "$sources" >&2 || { rm -f "$tar.tmp"; die "mmdebstrap failed for ${name}"; }
        mv -f "$tar.tmp" "$tar"
    fi
    log "importing ${tar} as ${tag}"
    docker import "$tar" "$tag" >/dev/null || die "docker import of ${tar} failed"
    printf '%s' "$tag"
}

# build_standin <name> <rootfs tag>: the stand-in image of compose/standins/<name>; prints its tag.
build_standin() {
    local name="$1" rootfs="$2" tag
    tag="mall-standin/${name}:${rootfs##*:}-$(cat "$MALL_ROOT/compose/standins/$name"/* | sha256sum | cut -c1-8)"
    if ! docker image inspect "$tag" >/dev/null 2>&1; then
        log "building the ${name} stand-in ${tag}"
        docker build -q --build-arg "ROOTFS=${rootfs}" -t "$tag" "$MALL_ROOT/compose/standins/$name" >/dev/null ||
            die "building the ${name} stand-in failed"
    fi
    printf '%s' "$tag"
}

# build_service_image <binary> <tag> <base rootfs>: mall/<binary>:<tag> from compose/Dockerfile's
# runtime-prebuilt stage, with the binary of the current build (stripped).
build_service_image() {
    local bin="$1" tag="$2" base="$3" ctx src
    src="${CARGO_TARGET_DIR}/${MALL_PROFILE:-debug}/${bin}"
    [[ -x "$src" ]] || die "${src} is not built (cargo build --workspace --bins)"
    ctx="$(mktemp -d "${TMPDIR:-/tmp}/mall-image.XXXXXX")"
    mkdir -p "$ctx/prebuilt"
    strip -o "$ctx/prebuilt/$bin" "$src"
    ln -s "$bin" "$ctx/prebuilt/mall-service"
    mkdir -p "$ctx/auth-proxy"
    cp "$MALL_ROOT/auth-proxy/policy.toml" "$ctx/auth-proxy/"
    docker build -q -f "$MALL_ROOT/compose/Dockerfile" --target runtime-prebuilt \
        --build-arg "RUNTIME_IMAGE=${base}" --build-arg "BIN=${bin}" --build-arg "VERSION=${tag}" \
        -t "mall/${bin}:${tag}" "$ctx" >/dev/null 2>"$ctx/build.log" || {
        cat "$ctx/build.log" >&2
        rm -rf "$ctx"
        die "building mall/${bin}:${tag} failed"
    }
    rm -rf "$ctx"
}

# build_images: every image of the stack; sets NGINX_IMAGE, MYSQL_IMAGE, REDIS_IMAGE and
# BASE_IMAGE, and builds mall/<binary>:${MALL_IMAGE_TAG} for every binary.
build_images() {
    local bin rootfs
    ensure_docker
    BASE_IMAGE="$(rootfs_image base bookworm ca-certificates,curl,zlib1g,passwd)" || exit 1
    # nginx from Debian testing: 1.30 re-resolves upstream names (`resolve`), as nginx:1.28 does.
    rootfs="$(rootfs_image nginx forky nginx,gettext-base,curl,ca-certificates,passwd)" || exit 1
    NGINX_IMAGE="$(build_standin nginx "$rootfs")" || exit 1
    rootfs="$(rootfs_image mysql bookworm mariadb-server,mariadb-client)" || exit 1
    MYSQL_IMAGE="$(build_standin mysql "$rootfs")" || exit 1
    rootfs="$(rootfs_image redis bookworm redis-server,redis-tools)" || exit 1
    REDIS_IMAGE="$(build_standin redis "$rootfs")" || exit 1
    log "building the mall's images (mall/<binary>:${MALL_IMAGE_TAG}) from ${CARGO_TARGET_DIR}/${MALL_PROFILE:-debug}"
    for bin in "${MALL_BINARIES[@]}"; do
        build_service_image "$bin" "$MALL_IMAGE_TAG" "$BASE_IMAGE"
    done
    build_edge_image "$MALL_ROOT" "$MALL_IMAGE_TAG"
}

# build_edge_image <tree> <tag>: mall/edge:<tag> (compose/edge/Dockerfile, target
# edge-prebuilt) on NGINX_IMAGE, with that tree's nginx/ and web/ and the current build's
# mall-edge (a context of just those: the legacy builder knows no Dockerfile-specific
# ignore file).
build_edge_image() {
    local tree="$1" tag="$2" ctx src="${CARGO_TARGET_DIR}/${MALL_PROFILE:-debug}/mall-edge"
    [[ -x "$src" ]] || die "${src} is not built (cargo build --workspace --bins)"
    ctx="$(mktemp -d "${TMPDIR:-/tmp}/mall-edge.XXXXXX")"
    mkdir -p "$ctx/prebuilt"
    strip -o "$ctx/prebuilt/mall-edge" "$src"
    cp -R "$tree/nginx" "$ctx/nginx"
    cp -R "$tree/web" "$ctx/web"
    rm -rf "$ctx/web/tests"
    docker build -q -f "$MALL_ROOT/compose/edge/Dockerfile" --target edge-prebuilt --build-arg "NGINX_IMAGE=${NGINX_IMAGE}" \
        --build-arg "VERSION=${tag}" -t "mall/edge:${tag}" "$ctx" >/dev/null 2>"$ctx/build.log" || {
        cat "$ctx/build.log" >&2
        rm -rf "$ctx"
        die "building mall/edge:${tag} failed"
    }
    rm -rf "$ctx"
}

# --- the stack ---------------------------------------------------------------------------

compose_init() {
    MALL_IMAGE_TAG="${MALL_IMAGE_TAG:-dev}"
    MALL_COMPOSE_ENV_FILE="${MALL_COMPOSE_ENV_FILE:-$MALL_ROOT/compose/.env}"
    local cmd
    cmd="$(compose_cmd)" || die "no compose tool (apt-get install -y docker-compose)"
    read -r -a COMPOSE <<<"$cmd"
    COMPOSE+=(-f "$MALL_ROOT/compose/docker-compose.yml")
    [[ -f "$MALL_COMPOSE_ENV_FILE" ]] && COMPOSE+=(--env-file "$MALL_COMPOSE_ENV_FILE")
    # The same file for scripts/trace (COMPOSE_ENV_FILE) and scripts/blue-green.
    export MALL_COMPOSE_ENV_FILE COMPOSE_ENV_FILE="$MALL_COMPOSE_ENV_FILE" MALL_BG_COMPOSE="$cmd"
}

# write_compose_env: the compose file's variables for this host (images, port, rates), in
# MALL_COMPOSE_ENV_FILE; settings blue/green wrote there before (slot images) are kept.
write_compose_env() {
    local part slot var file="$MALL_COMPOSE_ENV_FILE"
    mkdir -p "$(dirname "$file")"
    [[ -f "$file" ]] || (umask 077 && : >"$file")
    local -a pairs=(MALL_HTTP_PORT "$MALL_HTTP_PORT" NGINX_IMAGE "$NGINX_IMAGE"
        MYSQL_IMAGE "$MYSQL_IMAGE" REDIS_IMAGE "$REDIS_IMAGE"
        INIT_IMAGE "mall/mall-init:${MALL_IMAGE_TAG}" GATEWAY_SIM_IMAGE "mall/gateway-sim:${MALL_IMAGE_TAG}"
        MALL_LOGIN_RATE "${MALL_LOGIN_RATE:-10r/s}" MALL_LOGIN_BURST "${MALL_LOGIN_BURST:-20}")
    # What scripts/blue-green deployed since (slot images, the edge) is kept.
    grep -q '^EDGE_IMAGE=' "$file" || pairs+=(EDGE_IMAGE "mall/edge:${MALL_IMAGE_TAG}" EDGE_VERSION "$MALL_IMAGE_TAG")
    for part in auth-proxy user product cart order payment; do
        for slot in BLUE GREEN; do
            var="${part//-/_}"
            var="${var^^}_${slot}_IMAGE"
            grep -q "^${var}=" "$file" || pairs+=("$var" "mall/$(binary_of "$part"):${MALL_IMAGE_TAG}")
        done
    done
    env_file_set "$file" "${pairs[@]}"
    compose_init
}

# env_file_set <file> <VAR> <value> [<VAR> <value>...]: sets (or appends) the variables in a
# compose env file, atomically, keeping its mode.
env_file_set() {
    local file="$1" tmp
    shift
    tmp="$(mktemp "$(dirname "$file")/.env.XXXXXX")"
    chmod "$(stat -c %a "$file")" "$tmp"
    awk -v pairs="$(printf '%s\n' "$@")" '
        BEGIN { n = split(pairs, kv, "\n"); for (i = 1; i < n; i += 2) want[kv[i]] = kv[i + 1] }
        { name = $0; sub(/=.*/, "", name) }
        (name in want) { print name "=" want[name]; done[name] = 1; next }
        { print }
        END { for (k in want) if (!(k in done)) print k "=" want[k] }
    ' "$file" >"$tmp"
    mv -f "$tmp" "$file"
}

# compose_unhealthy: prints the containers of the project that are not (yet) running and
# healthy, or exited 0 for the one-shot init; nothing when all are.
compose_unhealthy() {
    local ids
    ids="$("${COMPOSE[@]}" ps -q 2>/dev/null)" || return 0
    [[ -n "$ids" ]] || { echo "(no containers)"; return 0; }
    # shellcheck disable=SC2086  # one id per word
    docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}}' $ids |
        awk '!(($2 == "running" && ($3 == "healthy" || $3 == "none")) || ($1 ~ /init/ && $2 == "exited" && $4 == 0)) { print $1 " " $2 "/" $3 }'
}

compose_all_healthy() {
    [[ -z "$(compose_unhealthy)" ]]
}

# compose_up: builds the images, starts the stack, waits until every container is healthy.
compose_up() {
    build_images
    write_compose_env
    log "starting the compose stack (${COMPOSE[*]} up -d)"
    "${COMPOSE[@]}" up -d --no-build --remove-orphans >&2 || {
        "${COMPOSE[@]}" logs --no-color --tail 30 >&2 || true
        die "compose up failed (above: the last log lines)"
    }
    wait_for "${MALL_READY_TIMEOUT:-180}" "every container to be healthy" compose_all_healthy || {
        warn "not healthy: $(compose_unhealthy | tr '\n' ' ')"
        "${COMPOSE[@]}" logs --no-color --tail 20 >&2 || true
        die "the compose stack did not become healthy"
    }
    # shellcheck disable=SC2016  # expanded by the inner bash
    wait_for 30 "nginx" bash -c '[[ "$(curl -s -o /dev/null -w "%{http_code}" "$1")" == 200 ]]' _ \
        "http://127.0.0.1:${MALL_HTTP_PORT}/" || die "nginx does not answer on port ${MALL_HTTP_PORT}"
}

# compose_private_env <state dir> <project prefix>: the variables of a private compose
# project (the tests' and benchmarks'): its state and env file under the directory, a free
# loopback port for nginx, a random project name, exported for scripts/dev and compose.
compose_private_env() {
    local base
    MALL_VAR="$1/var"
    base="$(free_port_base)" || die "no free port found"
    MALL_HTTP_PORT=$((base + 50))
    COMPOSE_PROJECT_NAME="$2-$(random_hex 3)"
    MALL_COMPOSE_ENV_FILE="$1/compose.env"
    export MALL_VAR MALL_HTTP_PORT COMPOSE_PROJECT_NAME MALL_COMPOSE_ENV_FILE
}

# compose_admin_password: the generated (or configured) admin password, from the user
# service's secret volume, read inside the running user container.
compose_admin_password() {
    "${COMPOSE[@]}" exec -T user-blue cat /run/mall/admin-password </dev/null
}

# compose_down [--volumes]: stops and removes the stack's containers (and its volumes).
compose_down() {
    log "stopping the compose stack (${COMPOSE[*]} down $*)"
    "${COMPOSE[@]}" down --remove-orphans "$@" >&2
}
