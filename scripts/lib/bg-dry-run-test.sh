#!/usr/bin/env bash
# The blue/green compose plan checked with --dry-run, no Docker needed (sourced through
# scripts/lib/bg-test.sh; scripts/test's bg-dry-run step).

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
