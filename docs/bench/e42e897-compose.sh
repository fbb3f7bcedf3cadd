#!/usr/bin/env bash
# e42e897 (issue 19's "today's build") on its own compose file, on a host that cannot pull:
# the measurement recipe of docs/performance.md "Issue 19: e42e897 on compose (session 17)".
#
#   git worktree add /work/wt-old e42e897
#   (cd /work/wt-old && CARGO_TARGET_DIR=~/.cache/wt-old-target cargo build --release --workspace --bins)
#   scripts/dev up --runtime compose && scripts/dev down    # once: head's Debian base and stand-ins
#   docs/bench/e42e897-compose.sh sweep 500 var/bench/mix-compose-e42e897.json
#
# e42e897's compose file names registry images (rust:1.95-bookworm to build, nginx:1.28,
# mysql:8.4, redis:7.4) and takes its secrets from compose/.env and compose/secrets/. Here
# its release binaries go onto head's Debian base image (compose/Dockerfile's
# runtime-prebuilt stage, as head's own images), its nginx, database and Redis are head's
# stand-ins (compose/standins/, which keep the official images' contracts), and its
# secrets are generated into a private state directory. Nothing of e42e897's configuration
# is changed but one setting: the demo catalog is loaded (SEED_DEMO_CATALOG), as head's
# compose stack does. The load is head's mall-load, run as `mall bench mix --runtime
# compose --sweep` runs it (same options, the edge's address on the stack's network, CPU
# per container by host pid).
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: docs/bench/e42e897-compose.sh up|sweep RATE OUT.json|down|--help

  up                 build e42e897's images and start its compose stack (project mall-old)
  sweep RATE OUT     up, then mall-load's open-loop sweep from RATE (step 250, 15 s per
                     step, 300 shoppers, 128 connections), results in OUT (and OUT's .svg),
                     then down
  down               stop the stack and remove its volumes

Environment: OLD (e42e897's worktree, /work/wt-old), OLD_BIN (its release binaries,
~/.cache/wt-old-target/release), LOAD (head's release mall-load,
~/.cache/wt-main-target/release/mall-load), STATE (/tmp/mall-old-compose), PORT (the
published port on 127.0.0.1, 18480).
USAGE
}

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OLD=${OLD:-/work/wt-old}
OLD_BIN=${OLD_BIN:-$HOME/.cache/wt-old-target/release}
LOAD=${LOAD:-$HOME/.cache/wt-main-target/release/mall-load}
STATE=${STATE:-/tmp/mall-old-compose}
PORT=${PORT:-18480}
PROJECT=mall-old
BINS="auth-proxy user-service product-service cart-service order-service payment-service gateway-sim"

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

dc() {
    docker-compose -p "$PROJECT" --env-file "$STATE/.env" -f "$OLD/compose/docker-compose.yml" \
        -f "$STATE/override.yml" --profile dev "$@"
}

# image REPOSITORY: the newest tag of that repository on this host.
image() {
    docker images --format '{{.Repository}}:{{.Tag}}' | grep "^$1:" | head -1 || true
}

build_images() {
    local base=$1 b ctx
    for b in $BINS; do
        [ -x "$OLD_BIN/$b" ] || die "$OLD_BIN/$b is not built (see --help)"
        ctx=$(mktemp -d)
        mkdir -p "$ctx/prebuilt" "$ctx/auth-proxy"
        strip -o "$ctx/prebuilt/$b" "$OLD_BIN/$b"
        ln -s "$b" "$ctx/prebuilt/mall-service"
        cp "$OLD/auth-proxy/policy.toml" "$ctx/auth-proxy/"
        say "image mall-old/$b:old"
        docker build -q -f "$HERE/compose/Dockerfile" --target runtime-prebuilt \
            --build-arg "RUNTIME_IMAGE=$base" --build-arg "BIN=$b" --build-arg VERSION=old \
            -t "mall-old/$b:old" "$ctx" >/dev/null
        rm -rf "$ctx"
    done
}

# The secrets e42e897's .env.example asks for, generated; its .env with the images.
write_state() {
    local nginx=$1 mysql=$2 redis=$3 s slot bin
    rm -rf "$STATE"
    mkdir -p "$STATE/secrets/jwt"
    openssl genpkey -algorithm ed25519 -out "$STATE/secrets/jwt/$(date -u +%Y%m%d%H%M%S).pem"
    openssl rand -hex 16 | tr -d '\n' >"$STATE/secrets/admin-password"
    openssl rand -hex 16 | tr -d '\n' >"$STATE/secrets/grafana-admin-password"
    chmod 700 "$STATE/secrets/jwt"
    chmod 600 "$STATE/secrets/jwt/"*.pem "$STATE/secrets/admin-password"
    chown -R 10001:10001 "$STATE/secrets"
    {
        echo "MALL_HTTP_PORT=127.0.0.1:$PORT"
        echo "MALL_LOGIN_RATE=100000r/s"
        echo "MALL_LOGIN_BURST=100000"
        echo "NGINX_IMAGE=$nginx"
        echo "MYSQL_IMAGE=$mysql"
        echo "REDIS_IMAGE=$redis"
        for s in AUTH_PROXY USER PRODUCT CART ORDER PAYMENT; do
            bin=$(echo "$s" | tr 'A-Z_' 'a-z-')
            [ "$bin" = auth-proxy ] || bin="$bin-service"
            for slot in BLUE GREEN; do
                echo "${s}_${slot}_IMAGE=mall-old/$bin:old"
                echo "${s}_${slot}_VERSION=old"
            done
        done
        echo "GATEWAY_SIM_IMAGE=mall-old/gateway-sim:old"
        echo "GATEWAY_SIM_VERSION=old"
        echo "MYSQL_ROOT_PASSWORD=$(openssl rand -hex 24)"
        for s in USER PRODUCT CART ORDER PAYMENT; do
            echo "${s}_DB_PASSWORD=$(openssl rand -hex 24)"
        done
        echo "REDIS_PREFIX=mall:"
        echo "RUST_LOG=info"
        echo "JWT_KEYS_HOST_DIR=$STATE/secrets/jwt"
        echo "JWT_ISSUER=mall"
        echo "JWT_AUDIENCE=mall-api"
        echo "BOOTSTRAP_ADMIN_EMAIL=admin@mall.local"
        echo "ADMIN_PASSWORD_FILE=$STATE/secrets/admin-password"
        echo "GRAFANA_ADMIN_PASSWORD_FILE=$STATE/secrets/grafana-admin-password"
        echo "GATEWAY_URL=http://gateway-sim:8080"
    } >"$STATE/.env"
    cat >"$STATE/override.yml" <<'YML'
services:
  product-blue:
    environment: {SEED_DEMO_CATALOG: "true"}
  product-green:
    environment: {SEED_DEMO_CATALOG: "true"}
YML
}

edge_ip() {
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(dc ps -q nginx)"
}

up() {
    local base nginx mysql redis ip
    base=$(image mall-rootfs/base)
    nginx=$(image mall-standin/nginx)
    mysql=$(image mall-standin/mysql)
    redis=$(image mall-standin/redis)
    if [ -z "$base" ] || [ -z "$nginx" ] || [ -z "$mysql" ] || [ -z "$redis" ]; then
        die "head's base and stand-in images are missing (see --help)"
    fi
    build_images "$base"
    write_state "$nginx" "$mysql" "$redis"
    say "starting e42e897's compose stack (project $PROJECT)"
    dc up -d --no-build
    ip=$(edge_ip)
    for _ in $(seq 90); do
        curl -fs -o /dev/null --max-time 2 "http://$ip/" && return 0
        sleep 2
    done
    die "the edge at http://$ip/ did not answer"
}

# mall-load's --proc arguments: the edge's workers, the live (blue) slots, the data.
procs() {
    local svc pid
    for svc in nginx auth-proxy-blue user-blue product-blue cart-blue order-blue payment-blue \
        gateway-sim mysql redis; do
        pid=$(docker inspect -f '{{.State.Pid}}' "$(dc ps -q "$svc")")
        if [ "$svc" = nginx ]; then
            printf -- '--proc\nnginx=%s\n' "$(pgrep -P "$pid" | paste -sd,)"
        else
            printf -- '--proc\n%s=%s\n' "${svc%-blue}" "$pid"
        fi
    done
}

sweep() {
    local rate=$1 out=$2 ip rc=0
    local -a proc_args
    [[ "$rate" =~ ^[1-9][0-9]{0,5}$ ]] || die "RATE must be a whole number of requests per second (1-999999), not '$rate'"
    [ -w "$(dirname "$out")" ] || die "cannot write $out: its directory is missing or read-only"
    [ -x "$LOAD" ] || die "$LOAD is not built (cargo build --release -p mall-load)"
    # Down also when the start fails half-way, so no stack is left behind.
    trap 'dc down --volumes --remove-orphans >/dev/null 2>&1 || true' EXIT
    up
    ip=$(edge_ip)
    mapfile -t proc_args < <(procs)
    say "mall-load against http://$ip:80 ${proc_args[*]}"
    "$LOAD" --url "http://$ip:80" --duration 15 --warmup 2 --connections 128 --rate "$rate" \
        --users 300 --mode both --sweep --sweep-step 250 --admin-email admin@mall.local \
        --admin-password-file "$STATE/secrets/admin-password" \
        --user-prefix "shopper-$RANDOM" --json "$out" --svg "${out%.json}.svg" \
        "${proc_args[@]}" || rc=$?
    return "$rc"
}

case "${1:-}" in
up) up ;;
sweep)
    [ $# -eq 3 ] || { usage >&2; exit 64; }
    sweep "$2" "$3"
    ;;
down) dc down --volumes --remove-orphans ;;
-h | --help) usage ;;
*) usage >&2; exit 64 ;;
esac
