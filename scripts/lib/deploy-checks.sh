#!/usr/bin/env bash
# Static checks that keep deploys safe (sourced by scripts/test, after common.sh):
#
#   check_migrations  expand/contract: while blue and green run side by side on one
#                     database, a migration may only add (tables, columns, indexes,
#                     constraints). A step that drops, renames, truncates or changes a
#                     column is a *contract* step and must say so in its first lines:
#                         -- contract: <why every running version no longer needs it>
#                     (docs/deploy.md "Migrations").
#   check_workflows   the GitHub workflows (.github/workflows/*.yml), offline, with the two
#                     checkers of the test virtualenv ($MALL_VENV, installed by ensure_venv):
#                     check-jsonschema against the workflow schema it ships, and zizmor's
#                     security audits, where any finding above informational fails.

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

# workflow_linter <check-jsonschema|zizmor>: prints the path of that checker in the test
# virtualenv ($MALL_VENV, where scripts/test's ensure_venv installs the pinned version);
# fails when it is not there. Nothing is installed here, and nothing is fetched.
workflow_linter() {
    local tool="${MALL_VENV:-}/bin/$1"
    [[ -n "${MALL_VENV:-}" && -x "$tool" ]] || return 1
    echo "$tool"
}

# check_workflows: every workflow must
#   - match the GitHub workflow schema: check-jsonschema's built-in copy of it
#     (vendor.github-workflows), so no schema is downloaded;
#   - pass zizmor's audits with no finding above informational: --offline (no GitHub API, so
#     the online audits such as impostor-commit do not run), the default "regular" persona,
#     --min-severity low, --strict-collection (a file zizmor cannot parse fails instead of
#     being skipped), and zizmor's own exit code (non-zero on any finding left).
# Inline `# zizmor: ignore[audit]` comments are honoured; each needs a reason next to it.
check_workflows() {
    local schema zizmor file out rc=0
    local -a files=() valid=()
    if ! schema="$(workflow_linter check-jsonschema)" || ! zizmor="$(workflow_linter zizmor)"; then
        warn "check-jsonschema or zizmor is missing from ${MALL_VENV:-the test virtualenv} (scripts/test installs both)"
        return 1
    fi
    for file in "$MALL_ROOT"/.github/workflows/*.yml "$MALL_ROOT"/.github/workflows/*.yaml; do
        [[ -e "$file" ]] && files+=("$file")
    done
    if ((${#files[@]} == 0)); then
        log "workflows: none under .github/workflows"
        return 0
    fi
    for file in "${files[@]}"; do
        if out="$("$schema" --builtin-schema vendor.github-workflows "$file" 2>&1)"; then
            log "check-jsonschema: ${file#"$MALL_ROOT"/} matches the workflow schema"
            valid+=("$file")
        else
            warn "check-jsonschema rejected ${file#"$MALL_ROOT"/}:"
            printf '%s\n' "$out" >&2
            rc=1
        fi
    done
    # Only the files that match the schema: zizmor refuses the whole run for one it cannot
    # load, which would hide the others' findings. (No Rust backtrace on its errors.)
    ((${#valid[@]})) || return 1
    if out="$(RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 "$zizmor" --quiet --offline --strict-collection \
        --persona regular --min-severity low --no-progress --color never --format plain \
        "${valid[@]}" 2>&1)"; then
        log "zizmor: $(printf '%s\n' "$out" | tail -n 1)"
    else
        warn "zizmor found problems in the workflows (docs/deploy.md \"How it is tested\"):"
        printf '%s\n' "$out" >&2
        rc=1
    fi
    return "$rc"
}
