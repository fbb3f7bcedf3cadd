#!/bin/sh
# The compose stack's one-shot first step (service `init`, docs/deploy.md "Secrets"): every
# secret the mall needs, in one volume per consumer, so each container sees only its own.
#
#   /secrets/mysql/    root-password, <svc>-db-password for each service (the database's
#                      init script creates the users with them)
#   /secrets/<svc>/    db-password (user, product, cart, order, payment)
#   /secrets/user/     also admin-password and jwt/ (the signing keys)
#   /secrets/grafana/  admin-password (profile observability; Grafana runs as uid 472)
#
# A value given in the environment (compose/.env: MYSQL_ROOT_PASSWORD, <SVC>_DB_PASSWORD,
# BOOTSTRAP_ADMIN_PASSWORD, GRAFANA_ADMIN_PASSWORD) is written as given; a missing one is generated once and kept
# in its volume. Secrets are never printed, except the admin login when it is generated.
# With MALL_ENV=production a generated secret or the card gateway simulator is announced
# as a warning on every start. Runs as root with only CHOWN, DAC_OVERRIDE and FOWNER;
# files end up owned by their consumer (uid 10001 for the mall's services), mode 0600.
set -eu
umask 077
services="user product cart order payment"
generated=""

say() { printf 'init: %s\n' "$*" >&2; }
loud() {
    printf '\n*** WARNING (MALL_ENV=production): %s ***\n\n' "$*" >&2
}

# random: 32 URL-safe characters (hex), as DATABASE_URL and the init SQL need.
random() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# put <file> <value from the environment or empty>: writes the value, or generates one if
# the file does not exist yet. Prints "generated" when it generated.
put() {
    file="$1" value="$2"
    mkdir -p "$(dirname "$file")"
    if [ -n "$value" ]; then
        case "$value" in
            change-me*) say "${file#/secrets/}: the value in compose/.env is still the placeholder of .env.example; set it (see .env.example)"; exit 64 ;;
        esac
        printf '%s' "$value" >"$file.tmp" && mv -f "$file.tmp" "$file"
    elif [ ! -s "$file" ]; then
        random >"$file.tmp" && mv -f "$file.tmp" "$file"
        echo generated
    fi
}

upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

# (Each put's result is assigned first: a put that refuses then stops the script, set -e.)
new="$(put /secrets/mysql/root-password "${MYSQL_ROOT_PASSWORD:-}")"
[ -z "$new" ] || generated="$generated database-root-password"
for svc in $services; do
    eval "given=\${$(upper "$svc")_DB_PASSWORD:-}"
    # shellcheck disable=SC2154  # set by the eval above
    new="$(put "/secrets/$svc/db-password" "$given")"
    [ -z "$new" ] || generated="$generated ${svc}-db-password"
    cp "/secrets/$svc/db-password" "/secrets/mysql/${svc}-db-password"
done

admin_new="$(put /secrets/user/admin-password "${BOOTSTRAP_ADMIN_PASSWORD:-}")"
if [ -n "$admin_new" ]; then
    generated="$generated admin-password"
fi

mkdir -p /secrets/user/jwt
if ! ls /secrets/user/jwt/*.pem >/dev/null 2>&1; then
    user-service keygen --keys-dir /secrets/user/jwt >/dev/null
    generated="$generated jwt-signing-key"
fi

new="$(put /secrets/grafana/admin-password "${GRAFANA_ADMIN_PASSWORD:-}")"
chown -R 472:0 /secrets/grafana && chmod -R u=rwX,go= /secrets/grafana

# Ownership: the services run as 10001; the database's files are read by its entrypoint.
for svc in $services; do
    chown -R 10001:10001 "/secrets/$svc"
    chmod -R u=rwX,go= "/secrets/$svc"
done
chmod 0755 /secrets/mysql && chmod 0444 /secrets/mysql/*

if [ -n "$generated" ]; then
    say "generated:${generated} (kept in the stack's secret volumes)"
    [ "${MALL_ENV:-demo}" = production ] && loud "generated secrets:${generated}; set them in compose/.env"
fi
if [ -n "$admin_new" ]; then
    say "admin login: ${BOOTSTRAP_ADMIN_EMAIL:-admin@mall.local} / $(cat /secrets/user/admin-password)"
fi
case "${GATEWAY_URL:-http://gateway-sim:8080}" in
    http://gateway-sim:*)
        say "payments go to the card gateway SIMULATOR (GATEWAY_URL is not set)"
        [ "${MALL_ENV:-demo}" = production ] && loud "payments go to the card gateway simulator; set GATEWAY_URL in compose/.env"
        ;;
esac
say "secrets ready"
