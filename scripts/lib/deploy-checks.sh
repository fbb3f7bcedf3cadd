#!/usr/bin/env bash
# Static checks that keep deploys safe (sourced by scripts/test, after common.sh):
#
#   check_migrations  expand/contract: while blue and green run side by side on one
#                     database, a migration may only add (tables, columns, indexes,
#                     constraints). A step that drops, renames, truncates or changes a
#                     column is a *contract* step and must say so in its first lines:
#                         -- contract: <why every running version no longer needs it>
#                     (docs/deploy.md "Migrations").
#   check_workflows   the GitHub workflows against the workflow schema: actionlint when
#                     installed, else action-validator (npm @action-validator/cli,
#                     installed into the user's cache when missing).

ACTION_VALIDATOR_VERSION=0.6.0

# --- migrations -----------------------------------------------------------------------------

# sql_statements <file>: the file's statements, one per line, upper-cased, with comments,
# string literals and quoted identifiers removed (so `-- don't drop` or a column named
# `drop_reason` is not mistaken for a DROP).
sql_statements() {
    # shellcheck disable=SC2016  # backticks are MySQL's identifier quotes here, not a command
    sed -e 's/--[[:space:]].*$//' -e 's/--$//' "$1" |
        tr '\n' ' ' |
        sed -e 's:/\*[^*]*\*\+\([^/*][^*]*\*\+\)*/: :g' \
            -e "s/'[^']*'/''/g" -e 's/"[^"]*"/""/g' -e 's/`[^`]*`/``/g' |
        tr ';' '\n' | tr '[:lower:]' '[:upper:]'
}

# is_contract_step <file>: the marker comment in the first ten lines.
is_contract_step() {
    head -n 10 "$1" | grep -Eiq '^--[[:space:]]*contract:[[:space:]]*[^[:space:]]'
}

# destructive_statements <file>: the statements that take something away.
destructive_statements() {
    local word='(^|[^A-Z0-9_])'
    local end='([^A-Z0-9_]|$)'
    sql_statements "$1" | grep -E \
        -e "${word}(DROP|RENAME|TRUNCATE)${end}" \
        -e "${word}ALTER[[:space:]]+(ONLINE[[:space:]]+|IGNORE[[:space:]]+)?TABLE${end}.*${word}(CHANGE|MODIFY)${end}" |
        sed -e 's/[[:space:]]\{1,\}/ /g' -e 's/^ //' || true
}

# check_migrations_in <root>: every services/*/migrations/*.sql under root.
check_migrations_in() {
    local root="$1" file bad rc=0 count=0
    for file in "$root"/services/*/migrations/*.sql; do
        [[ -e "$file" ]] || continue
        count=$((count + 1))
        bad="$(destructive_statements "$file")"
        [[ -n "$bad" ]] || continue
        if is_contract_step "$file"; then
            log "contract step (marked): ${file#"$root"/}"
            continue
        fi
        warn "${file#"$root"/} takes something away, which the other slot may still use:"
        printf '    %s\n' "$bad" | cut -c1-160 >&2
        warn "  split it: expand now (add), contract in a later release marked '-- contract: <why>' (docs/deploy.md)"
        rc=1
    done
    ((rc == 0)) && log "migrations: ${count} files, each only adds or is a marked contract step"
    return "$rc"
}

# migrations_self_test: the checker tells additive steps from destructive ones.
migrations_self_test() (
    local dir
    dir="$(mktemp -d "${TMPDIR:-/tmp}/mall-migrations.XXXXXX")"
    trap 'rm -rf "$dir"' EXIT
    mkdir -p "$dir/services/a/migrations" "$dir/services/b/migrations"
    cat >"$dir/services/a/migrations/0001_ok.sql" <<'SQL'
-- Additive only; we don't drop anything here.
CREATE TABLE IF NOT EXISTS t (id BIGINT PRIMARY KEY, drop_reason VARCHAR(20) DEFAULT 'drop');
ALTER TABLE t ADD COLUMN `rename` INT NULL, ADD INDEX ix_t_rename (`rename`);
/* DROP TABLE t; (an example in a comment) */
SQL
    printf 'ALTER TABLE t\n  DROP COLUMN c;\n' >"$dir/services/b/migrations/0002_drop.sql"
    if check_migrations_in "$dir" 2>/dev/null; then
        warn "the migration check let an unmarked DROP COLUMN through"
        return 1
    fi
    printf 'ALTER TABLE t CHANGE c d INT;\n' >"$dir/services/b/migrations/0002_drop.sql"
    if check_migrations_in "$dir" 2>/dev/null; then
        warn "the migration check let an unmarked column rename (CHANGE) through"
        return 1
    fi
    printf -- '-- contract: no running version reads c since 0001 (expand)\nALTER TABLE t DROP COLUMN c;\n' \
        >"$dir/services/b/migrations/0002_drop.sql"
    check_migrations_in "$dir" >/dev/null 2>&1 || {
        warn "the migration check refused an additive step or a marked contract step"
        return 1
    }
    log "migration check self-test: DROP and CHANGE refused, additive and marked contract steps pass"
)

check_migrations() {
    migrations_self_test || return 1
    check_migrations_in "$MALL_ROOT"
}

# --- workflows --------------------------------------------------------------------------------

# workflow_linter: prints the command that checks one workflow file, installing
# action-validator with npm when neither linter is there; fails when npm is absent too.
workflow_linter() {
    local dir="${XDG_CACHE_HOME:-$HOME/.cache}/mall-tools/action-validator"
    if have actionlint; then
        echo actionlint
    elif have action-validator; then
        echo action-validator
    elif [[ -x "$dir/node_modules/.bin/action-validator" ]]; then
        echo "$dir/node_modules/.bin/action-validator"
    elif have npm; then
        log "installing @action-validator/cli@${ACTION_VALIDATOR_VERSION} into $dir"
        npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
            "@action-validator/cli@${ACTION_VALIDATOR_VERSION}" >&2 || return 1
        echo "$dir/node_modules/.bin/action-validator"
    else
        return 1
    fi
}

check_workflows() {
    local linter file rc=0
    linter="$(workflow_linter)" || { warn "no workflow linter and npm is absent"; return 1; }
    for file in "$MALL_ROOT"/.github/workflows/*.yml; do
        [[ -e "$file" ]] || continue
        if "$linter" "$file"; then
            log "$(basename "$linter"): ${file#"$MALL_ROOT"/} is valid"
        else
            warn "$(basename "$linter") rejected ${file#"$MALL_ROOT"/}"
            rc=1
        fi
    done
    return "$rc"
}

# workflow_check_possible: whether check_workflows can run here at all.
workflow_check_possible() {
    have actionlint || have action-validator || have npm ||
        [[ -x "${XDG_CACHE_HOME:-$HOME/.cache}/mall-tools/action-validator/node_modules/.bin/action-validator" ]]
}
