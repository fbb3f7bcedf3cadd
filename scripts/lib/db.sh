#!/usr/bin/env bash
# MySQL/MariaDB and Redis helpers scripts/test and scripts/bench still use (sourced, after
# common.sh); `mall stack` creates the databases in Rust (tools/mall/src/host/mysql.rs).
#
# Uses MALL_MYSQL_HOST, MALL_MYSQL_PORT, MALL_MYSQL_ROOT_USER, MALL_MYSQL_ROOT_PASSWORD
# (optional), MALL_REDIS_URL.

# mysql_admin <mysql args...>: the mysql client as the administrative user, over TCP.
mysql_admin() {
    local -a envs=()
    if [[ -n "${MALL_MYSQL_ROOT_PASSWORD:-}" ]]; then
        envs+=("MYSQL_PWD=${MALL_MYSQL_ROOT_PASSWORD}")
    fi
    env "${envs[@]}" mysql --protocol=TCP -h "$MALL_MYSQL_HOST" -P "$MALL_MYSQL_PORT" \
        -u "$MALL_MYSQL_ROOT_USER" --batch --skip-column-names "$@"
}

# db_name / db_user <prefix> <service>: the names DESIGN.md "Data" fixes.
db_name() { printf '%s%s_db' "$1" "$2"; }
db_user() { printf '%s%s_svc' "$1" "$2"; }

# drop_service_db <prefix> <service>: removes the database and its users (test clean-up).
drop_service_db() {
    local prefix="$1" svc="$2" db user
    db="$(db_name "$prefix" "$svc")"
    user="$(db_user "$prefix" "$svc")"
    mysql_admin -e "DROP DATABASE IF EXISTS \`${db}\`;
        DROP USER IF EXISTS '${user}'@'127.0.0.1';
        DROP USER IF EXISTS '${user}'@'localhost';"
}

# drop_stack_data <db prefix> <redis prefix>: a private stack's data gone (every service's
# database and users, its Redis keys); warns about what could not be removed.
drop_stack_data() {
    local db_prefix="$1" redis_prefix="$2" svc
    for svc in user product cart order payment; do
        drop_service_db "$db_prefix" "$svc" || warn "could not drop the ${svc} database"
    done
    redis_delete_prefix "$redis_prefix" || warn "could not delete the Redis keys under ${redis_prefix}"
}

# redis_delete_prefix <prefix>: deletes every key under the prefix (test clean-up).
redis_delete_prefix() {
    local prefix="$1"
    [[ -n "$prefix" && "$prefix" != "*" ]] || die "refusing to delete Redis keys without a prefix"
    redis-cli -u "$MALL_REDIS_URL" --scan --pattern "${prefix}*" |
        xargs -r -d '\n' -n 100 redis-cli -u "$MALL_REDIS_URL" del >/dev/null
}
