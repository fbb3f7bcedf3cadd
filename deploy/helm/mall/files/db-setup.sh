#!/bin/bash
# Generated from mall.toml by `cargo run -p mall-desc -- generate`; do not edit.
# Each service's database and user (DESIGN.md "Data"), idempotent and additive:
# CREATE ... IF NOT EXISTS, a password from /secrets/<part>/password, grants on its
# own database only (SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE; no DROP).
set -euo pipefail
admin_password="$(cat /secrets/admin/password)"
export MYSQL_PWD="$admin_password"
run_sql() { mysql --host="$DB_HOST" --port="$DB_PORT" --user="$DB_ADMIN_USER"; }
password() {
    local value
    value="$(tr -d '\r\n' <"/secrets/$1/password")"
    [[ "$value" =~ ^[A-Za-z0-9._~-]{16,128}$ ]] || { echo "db-setup: the $1 password must be 16-128 characters of [A-Za-z0-9._~-]" >&2; exit 1; }
    printf '%s' "$value"
}
pw="$(password user)"
run_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`user_db\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'user_svc'@'%' IDENTIFIED BY '$pw';
ALTER USER 'user_svc'@'%' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON \`user\\_db\`.* TO 'user_svc'@'%';
SQL
echo "db-setup: user_db and user_svc are there"
pw="$(password product)"
run_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`product_db\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'product_svc'@'%' IDENTIFIED BY '$pw';
ALTER USER 'product_svc'@'%' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON \`product\\_db\`.* TO 'product_svc'@'%';
SQL
echo "db-setup: product_db and product_svc are there"
pw="$(password cart)"
run_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`cart_db\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'cart_svc'@'%' IDENTIFIED BY '$pw';
ALTER USER 'cart_svc'@'%' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON \`cart\\_db\`.* TO 'cart_svc'@'%';
SQL
echo "db-setup: cart_db and cart_svc are there"
pw="$(password order)"
run_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`order_db\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'order_svc'@'%' IDENTIFIED BY '$pw';
ALTER USER 'order_svc'@'%' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON \`order\\_db\`.* TO 'order_svc'@'%';
SQL
echo "db-setup: order_db and order_svc are there"
pw="$(password payment)"
run_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`payment_db\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'payment_svc'@'%' IDENTIFIED BY '$pw';
ALTER USER 'payment_svc'@'%' IDENTIFIED BY '$pw';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON \`payment\\_db\`.* TO 'payment_svc'@'%';
SQL
echo "db-setup: payment_db and payment_svc are there"
