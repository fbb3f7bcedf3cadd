#!/usr/bin/env bash
# scripts/blue-green's bookkeeping, the same for every runtime (sourced, after common.sh):
# dry-run aware command execution, the per-host lock, the per-part state file and the
# JSON-lines audit log (docs/deploy.md).
# shellcheck disable=SC2034  # variables here are used by the script that sources this file

# --- running commands --------------------------------------------------------------------

DRY_RUN=0

# quote_cmd <word...>: the words as one shell-quoted line.
quote_cmd() {
    local out="" word
    for word in "$@"; do
        out+="$(printf '%q' "$word") "
    done
    printf '%s' "${out% }"
}

# act <command...>: runs a command that changes something; with --dry-run only prints it.
act() {
    if ((DRY_RUN)); then
        printf '+ %s\n' "$(quote_cmd "$@")"
        return 0
    fi
    "$@"
}

# act_input <text> <command...>: like act, with <text> on the command's standard input.
act_input() {
    local text="$1"
    shift
    if ((DRY_RUN)); then
        printf '+ %s <<EOF\n%s\nEOF\n' "$(quote_cmd "$@")" "$text"
        return 0
    fi
    printf '%s\n' "$text" | "$@"
}

# utc_now: the time as RFC 3339 UTC, seconds.
utc_now() {
    date -u +%Y-%m-%dT%H:%M:%SZ
}

# actor: who acts. MALL_BG_ACTOR names the real person behind automation (the deploy
# workflow sets it to the GitHub user and run); otherwise the user behind sudo, or us.
actor() {
    printf '%s' "${MALL_BG_ACTOR:-${SUDO_USER:-$(id -un)}}"
}

# --- the lock ------------------------------------------------------------------------------
# One action at a time per host (per state directory): flock(1) on $STATE_DIR/lock, so the
# kernel releases it when the holder dies, however it dies. Whoever holds it describes
# itself in lock.holder, which a refused or waiting caller prints.

LOCK_FD=""
LOCK_HELD=0

# lock_take <what> <wait seconds>: takes the lock or fails naming the holder.
lock_take() {
    local what="$1" wait="$2" holder
    mkdir -p "$STATE_DIR"
    exec {LOCK_FD}>>"$STATE_DIR/lock"
    if ! flock -n "$LOCK_FD"; then
        holder="$(cat "$STATE_DIR/lock.holder" 2>/dev/null || echo 'unknown (no lock.holder)')"
        if ((wait <= 0)); then
            die "another blue/green action holds the lock: ${holder}. Let it finish (scripts/blue-green status), or pass --wait SECONDS to queue behind it"
        fi
        log "waiting up to ${wait}s for the lock held by: ${holder}"
        flock -w "$wait" "$LOCK_FD" ||
            die "the lock is still held after ${wait}s by: $(cat "$STATE_DIR/lock.holder" 2>/dev/null || echo unknown)"
    fi
    LOCK_HELD=1
    write_atomically "$STATE_DIR/lock.holder" \
        "pid $$ on $(hostname), $(actor), '${what}', since $(utc_now)"
}

lock_release() {
    [[ -n "$LOCK_FD" ]] || return 0
    if ((LOCK_HELD)); then
        # The holder file goes first: whoever takes the lock next writes its own.
        rm -f "$STATE_DIR/lock.holder"
        flock -u "$LOCK_FD" || true
        LOCK_HELD=0
    fi
    exec {LOCK_FD}>&-
    LOCK_FD=""
}

# write_atomically <file> <text>: a temp file in the same directory, then rename.
write_atomically() {
    local file="$1" tmp
    tmp="$(mktemp "$(dirname "$file")/.$(basename "$file").XXXXXX")"
    printf '%s\n' "$2" >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$file"
}

# --- state -----------------------------------------------------------------------------------
# $STATE_DIR/state/<part>.state: `key=value` lines, read into the associative array ST
# (never sourced). Keys: part, live (slot), since, by, action, and per slot <slot>_version,
# <slot>_artifact (local: the binary's path; compose: the image), <slot>_env (extra
# variables of a local slot, space-separated VAR=value).

declare -gA ST=()

state_file() {
    printf '%s/state/%s.state' "$STATE_DIR" "$1"
}

# state_load <part>: ST from the file (empty when there is none).
state_load() {
    local file line
    file="$(state_file "$1")"
    ST=()
    [[ -f "$file" ]] || return 0
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ "$line" == *=* && "$line" != \#* ]] || continue
        ST["${line%%=*}"]="${line#*=}"
    done <"$file"
}

# state_save <part>: ST to the file, atomically (mode 600: a slot's extra variables may
# hold a secret).
state_save() {
    local file dir tmp key
    file="$(state_file "$1")"
    dir="$(dirname "$file")"
    mkdir -p "$dir"
    tmp="$(mktemp "$dir/.$1.XXXXXX")"
    {
        printf '# scripts/blue-green state of %s; written atomically, do not edit by hand.\n' "$1"
        for key in $(printf '%s\n' "${!ST[@]}" | sort); do
            printf '%s=%s\n' "$key" "${ST[$key]}"
        done
    } >"$tmp"
    chmod 600 "$tmp"
    mv -f "$tmp" "$file"
}

# st <key>: a state value, empty when unset.
st() {
    printf '%s' "${ST[$1]:-}"
}

# --- audit log -------------------------------------------------------------------------------
# $STATE_DIR/audit.log: one JSON object per line, appended, never rewritten. Every action
# writes a `started` line and an outcome line with the same id.

# json_str <text>: the text as a JSON string.
json_str() {
    local s="$1"
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    s="${s//$'\n'/\\n}"
    s="${s//$'\r'/\\r}"
    s="${s//$'\t'/\\t}"
    s="$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')"
    printf '"%s"' "$s"
}

# audit <key=value | key:=number ...>: appends one line (ts, user and host come first).
audit() {
    local line pair
    line="{\"ts\":$(json_str "$(utc_now)"),\"user\":$(json_str "$(actor)"),\"host\":$(json_str "$(hostname)")"
    for pair in "$@"; do
        if [[ "$pair" == *:=* ]]; then
            line+=",$(json_str "${pair%%:=*}"):${pair#*:=}"
        else
            line+=",$(json_str "${pair%%=*}"):$(json_str "${pair#*=}")"
        fi
    done
    mkdir -p "$STATE_DIR"
    printf '%s}\n' "$line" >>"$STATE_DIR/audit.log"
}

# audit_pretty [part] [count]: the last actions, one readable line each (needs jq; prints
# the raw lines without it).
audit_pretty() {
    local part="${1:-}" count="${2:-10}" file="$STATE_DIR/audit.log"
    [[ -s "$file" ]] || { echo "  (no actions recorded in $file)"; return 0; }
    if ! have jq; then
        echo "  (install jq for a readable view; raw lines follow)"
        if [[ -n "$part" ]]; then grep -F "\"part\":\"${part}\"" "$file" | tail -n "$count"; else tail -n "$count" "$file"; fi
        return 0
    fi
    jq -r --arg part "$part" 'select($part == "" or .part == $part)
        | [ .ts, .user, .action, .part,
            ((.from_slot // "?") + "@" + (.from_version // "?") + " -> "
                + (.to_slot // "?") + "@" + (.to_version // "?")),
            .outcome
              + (if .stage then " at " + .stage else "" end)
              + (if .duration_s then " (" + (.duration_s | tostring) + "s)" else "" end)
              + (if .error then ": " + .error else "" end)
          ] | "  " + join("  ")' "$file" | tail -n "$count"
}
