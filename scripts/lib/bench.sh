#!/usr/bin/env bash
# Benchmark helpers for scripts/bench (sourced, after common.sh, db.sh, nginx.sh and
# stack.sh).
#
# A benchmark runs against its own private copy of the stack (release binaries, free
# ports, a mktemp state directory, its own database and Redis prefixes), started with
# `scripts/dev up` exactly like the end-to-end step of scripts/test, and always torn down.
# The load generator is wrk (Debian package); every run is bounded by its duration and
# by `timeout`. Results: one JSON object per run in $BENCH_TMP/runs.jsonl, summarised by
# scripts/bench into var/bench/<kind>-<UTC time>.json.
# shellcheck disable=SC2034  # variables here are used by the script that sources this file

# --- tools -------------------------------------------------------------------------------

# bench_ensure_tools: installs what is missing (one apt-get call), like scripts/test does.
bench_ensure_tools() {
    ensure_packages wrk:wrk jq:jq curl:curl nginx:nginx envsubst:gettext-base setsid:util-linux \
        timeout:coreutils column:bsdextrautils pgrep:procps mysql:mariadb-client redis-cli:redis-tools
    # The local stack's MariaDB and Redis (scripts/lib/host.sh); the compose one brings its own.
    [[ "${BENCH_RUNTIME:-local}" == compose ]] || ensure_databases
}

# --- the private stack ---------------------------------------------------------------------

BENCH_STATE=""
BENCH_UP=0
BENCH_FAILED=0

# bench_stack_env: the private stack's variables (exported for scripts/dev).
bench_stack_env() {
    local id
    BENCH_LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
    MALL_PORT_BASE="$(free_port_base)" || die "no free port range found"
    MALL_HTTP_PORT=$((MALL_PORT_BASE + 50))
    MALL_INTERNAL_PORT=$((MALL_PORT_BASE + 51))
    BENCH_PORT=$((MALL_PORT_BASE + 52))
    BENCH_PORT2=$((MALL_PORT_BASE + 53))
    BENCH_STATE="$(mktemp -d "${TMPDIR:-/tmp}/mall-bench.XXXXXX")"
    MALL_VAR="$BENCH_STATE/var"
    BENCH_TMP="$BENCH_STATE/bench"
    mkdir -p "$BENCH_TMP"
    id="$(random_hex 4)"
    MALL_DB_PREFIX="bench_${id}_"
    REDIS_PREFIX="bench:${id}:"
    MALL_PROFILE=release
    MALL_MYSQL_HOST="${MALL_MYSQL_HOST:-127.0.0.1}"
    MALL_MYSQL_PORT="${MALL_MYSQL_PORT:-3306}"
    MALL_MYSQL_ROOT_USER="${MALL_MYSQL_ROOT_USER:-root}"
    MALL_REDIS_URL="${MALL_REDIS_URL:-redis://127.0.0.1:6379/0}"
    export MALL_PORT_BASE MALL_HTTP_PORT MALL_INTERNAL_PORT MALL_VAR MALL_DB_PREFIX REDIS_PREFIX \
        MALL_PROFILE MALL_MYSQL_HOST MALL_MYSQL_PORT MALL_MYSQL_ROOT_USER MALL_REDIS_URL
    MALL_URL="http://127.0.0.1:${MALL_HTTP_PORT}"
    log "bench stack: ${MALL_URL} ports ${MALL_PORT_BASE}+, bench servers :${BENCH_PORT} :${BENCH_PORT2}," \
        "state ${MALL_VAR}, databases ${MALL_DB_PREFIX}*, Redis keys ${REDIS_PREFIX}*"
}

# bench_stack_up <services...>: the private stack with these services (user is required),
# release binaries, nothing rebuilt.
# Ports are checked free first, but another stack (a concurrent scripts/test) can take one
# before our processes bind it: then everything is removed and tried again on new ports.
bench_stack_up() {
    local attempt
    for attempt in 1 2 3; do
        bench_stack_env
        BENCH_UP=1
        if MALL_SERVICES="$*" bash "$MALL_ROOT/scripts/dev" up --no-build >&2; then
            return 0
        fi
        if ((attempt < 3)) && grep -qs 'Address already in use' "$MALL_VAR"/log/*.log "$MALL_VAR"/log/nginx/error.log; then
            warn "a port of the bench stack was taken meanwhile; starting again on other ports"
            bench_stack_down
            continue
        fi
        BENCH_FAILED=1
        die "the bench stack did not start; logs in $MALL_VAR/log"
    done
}

# bench_stack_down: always runs (trap): stops every process recorded in the state
# directory (including the extra slots the benchmark started), drops the databases and
# users, deletes the Redis keys; keeps the state directory only after a failure.
bench_stack_down() {
    [[ -n "$BENCH_STATE" ]] || return 0
    if ((BENCH_UP)) || [[ -d "$MALL_VAR/run" ]]; then
        log "tearing the bench stack down"
        bash "$MALL_ROOT/scripts/dev" down >&2 || warn "scripts/dev down failed"
    fi
    drop_stack_data "$MALL_DB_PREFIX" "$REDIS_PREFIX"
    if ((BENCH_FAILED)); then
        log "kept the bench state (logs, rendered nginx config, raw wrk results): $BENCH_STATE"
    else
        rm -rf "$BENCH_STATE"
    fi
    BENCH_STATE=""
}

# bench_pid <instance>: the pid scripts/dev recorded for it (auth-proxy-blue, product-blue…).
bench_pid() {
    local file="$MALL_VAR/run/$1.pid"
    [[ -s "$file" ]] || die "no pid file for $1 ($file)"
    cat "$file"
}

# --- nginx ---------------------------------------------------------------------------------

# bench_nginx_extra <name> <conf file>: drops a bench-only config (server blocks, upstreams)
# into <nginx prefix>/extra/ of the private stack (the template includes extra/*.conf in
# its http block), checks it, reloads nginx gracefully.
bench_nginx_extra() {
    local name="$1" src="$2" dir="$MALL_VAR/nginx"
    mkdir -p "$dir/extra"
    cp "$src" "$dir/extra/${name}.conf"
    if ! nginx_cmd "$dir" -t -q 2>>"$MALL_VAR/log/nginx/error.log"; then
        BENCH_FAILED=1
        die "nginx rejected the bench config $dir/extra/${name}.conf; see $MALL_VAR/log/nginx/error.log"
    fi
    nginx_cmd "$dir" -s reload 2>>"$MALL_VAR/log/nginx/error.log" || die "nginx -s reload failed"
    log "nginx reloaded with the bench-only config extra/${name}.conf"
}

# shellcheck source=scripts/lib/bench-wrk.sh
source "$MALL_ROOT/scripts/lib/bench-wrk.sh"

# --- observations ------------------------------------------------------------------------------

# bench_mem <pid>: {"rss_kb":…, "hwm_kb":…} from /proc/<pid>/status (VmRSS, VmHWM: peak).
bench_mem() {
    awk '/^VmRSS:/ {rss = $2} /^VmHWM:/ {hwm = $2}
        END {printf "{\"rss_kb\":%d,\"hwm_kb\":%d}\n", rss, hwm}' "/proc/$1/status"
}

# bench_metric <url> <metric name>: the sum of that metric's samples (all label sets), 0
# when absent.
bench_metric() {
    curl -fsS -m 5 "$1" | awk -v name="$2" '
        $1 == name || index($1, name "{") == 1 { sum += $NF }
        END { printf "%d\n", sum }'
}

# bench_status_tally: status codes nginx logged, per method and URI (numeric segments
# folded to {id}, query kept), as a JSON array of {uri, status, count}.
bench_status_tally() {
    local log="$MALL_VAR/log/nginx/access.log"
    [[ -s "$log" ]] || { echo '[]'; return 0; }
    grep -o '"method":"[A-Z]*","uri":"[^"]*","status":[0-9]*' "$log" |
        sed -E 's#"method":"([A-Z]*)","uri":"([^"]*)","status":([0-9]*)#\1 \2 \3#; s#/[0-9]+( |\?)#/{id}\1#' |
        sort | uniq -c |
        jq -R -s 'split("\n") | map(select(length > 0) | capture("^ *(?<count>[0-9]+) (?<method>[A-Z]+) (?<uri>[^ ]+) (?<status>[0-9]+)$")
            | {method, uri, status: (.status | tonumber), count: (.count | tonumber)}) | sort_by(-.count)'
}

# bench_log_sizes: lines, bytes and warning/error lines of every log file of the private
# stack, with the last warning or error lines of each, as JSON.
bench_log_sizes() {
    local f pattern
    for f in "$MALL_VAR"/log/*.log "$MALL_VAR"/log/nginx/*.log; do
        [[ -e "$f" ]] || continue
        case "$f" in
            */nginx/error.log) pattern='\[(warn|error|crit|alert|emerg)\]' ;;
            */nginx/access.log) pattern='"status":5[0-9][0-9]' ;;
            *) pattern='"level":"(WARN|ERROR)"' ;;
        esac
        jq -n --arg file "${f#"$MALL_VAR"/log/}" --argjson lines "$(wc -l <"$f")" \
            --argjson bytes "$(stat -c %s "$f")" --arg pattern "$pattern" \
            --argjson problems "$(grep -cE "$pattern" "$f" || true)" \
            --arg last "$(grep -E "$pattern" "$f" | tail -n 3 | cut -c1-400 || true)" \
            '{file: $file, lines: $lines, bytes: $bytes, problem_pattern: $pattern,
              problem_lines: $problems, last_problems: ($last | split("\n") | map(select(length > 0)))}'
    done | jq -s .
}

# bench_machine: what the numbers were taken on.
bench_machine() {
    jq -n --arg cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
        --argjson nproc "$(nproc)" \
        --argjson mem_kb "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)" \
        --arg kernel "$(uname -r)" \
        --arg nginx "$(nginx -v 2>&1 | sed 's/^nginx version: //')" \
        --arg wrk "$(wrk -v 2>&1 | head -n1 | awk '{print $2}')" \
        --arg load_start "${BENCH_LOAD_START:-}" --arg load_end "$(cut -d' ' -f1-3 /proc/loadavg)" \
        --arg commit "$(git -C "$MALL_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        --argjson dirty "$(if [[ -n "$(git -C "$MALL_ROOT" status --porcelain 2>/dev/null)" ]]; then echo true; else echo false; fi)" \
        '{cpu: $cpu, nproc: $nproc, mem_total_kb: $mem_kb, kernel: $kernel, nginx: $nginx,
          wrk: $wrk, loadavg_at_start: $load_start, loadavg_at_end: $load_end, commit: $commit, worktree_dirty: $dirty,
          profile: "release"}'
}
