#!/usr/bin/env bash
# What scripts/test and scripts/bench still need of the compose runtime (sourced, after
# common.sh and host.sh). `scripts/dev up|down --runtime compose` is `mall stack`
# (tools/mall/src/stack/compose.rs; the image builds in tools/mall/src/host/images.rs).
#
# Variables: MALL_HTTP_PORT [8080]; MALL_COMPOSE_ENV_FILE [compose/.env], the env file every
# compose command here uses (the images chosen and the port are written into it, settings of
# its own are kept; scripts/blue-green and scripts/trace read the same file);
# COMPOSE_PROJECT_NAME [compose's default: the file's folder, `compose`]; MALL_PROFILE
# [debug] (the binaries baked into the images); MALL_IMAGE_TAG [dev].

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

