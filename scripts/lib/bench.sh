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

# --- wrk -------------------------------------------------------------------------------------

# bench_write_lua <file>: the wrk script every run uses (the same per-request Lua cost for
# every case). Requests are pre-formatted in init() from two optional files: BENCH_PATHS
# (one path per line, default: the URL's path) and BENCH_AUTHS (one Authorization value per
# line); request() cycles through them, each thread from its own offset. done() writes
# wrk's own numbers (microseconds; status errors are responses >= 400) to BENCH_OUT.
bench_write_lua() {
    cat >"$1" <<'LUA'
-- Generated by scripts/bench (scripts/lib/bench.sh).
local threads = 0
local reqs = {}
local n = 0
local i = 0

function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

local function lines(path)
    local t = {}
    if path and path ~= "" then
        for l in io.lines(path) do
            if l ~= "" then t[#t + 1] = l end
        end
    end
    return t
end

function init(args)
    local paths = lines(os.getenv("BENCH_PATHS"))
    local auths = lines(os.getenv("BENCH_AUTHS"))
    if #paths == 0 then paths = { wrk.path } end
    local m = math.max(#paths, #auths)
    for k = 1, m do
        local headers = {}
        if #auths > 0 then headers["Authorization"] = auths[(k - 1) % #auths + 1] end
        reqs[k] = wrk.format("GET", paths[(k - 1) % #paths + 1], headers)
    end
    n = #reqs
    i = ((tid or 1) - 1) * 7919 % n
end

function request()
    i = i % n + 1
    return reqs[i]
end

function done(summary, latency, requests)
    local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
    local e = summary.errors
    out:write(string.format(
        '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
        '"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
        summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency.min, latency.mean, latency.stdev, latency.max,
        latency:percentile(50), latency:percentile(75), latency:percentile(90),
        latency:percentile(99), latency:percentile(99.9)))
    out:close()
end
LUA
}

# bench_wrk <case> <round> <url> [paths file] [auths file] [connections] [threads]: one
# bounded wrk run (connections and threads default to BENCH_CONNECTIONS/BENCH_THREADS);
# appends its numbers (with case, round, requests/s and what bench_probe counted during
# it) to $BENCH_TMP/runs.jsonl and prints a progress line. A warm-up of BENCH_WARMUP
# seconds (not recorded) precedes each case's first round.
bench_wrk() {
    local case="$1" round="$2" url="$3" paths="${4:-}" auths="${5:-}"
    local conns="${6:-$BENCH_CONNECTIONS}" threads="${7:-$BENCH_THREADS}" out rc=0 line before after
    out="$BENCH_TMP/${case}-${round}.json"
    local -a args=(-t "$threads" -c "$conns" --latency -s "$BENCH_TMP/bench.lua")
    if ((round == 1 && BENCH_WARMUP > 0)); then
        BENCH_PATHS="$paths" BENCH_AUTHS="$auths" BENCH_OUT="$BENCH_TMP/warmup.json" \
            timeout --foreground -k 5 $((BENCH_WARMUP + 30)) wrk "${args[@]}" -d "${BENCH_WARMUP}s" "$url" \
            >"$BENCH_TMP/warmup.txt" 2>&1 || warn "warm-up of ${case} failed: $(tail -n 3 "$BENCH_TMP/warmup.txt")"
    fi
    log "[round ${round}/${BENCH_ROUNDS}] ${case}: ${BENCH_DURATION}s, ${conns} connections, ${threads} threads: ${url}"
    before="$(bench_probe)"
    # wrk's own CPU time: what this shell's waited-for children used ($$ is this shell even
    # here; fields 16 and 17 of its stat, cutime and cstime), read without forking.
    local -a st0 st1
    read -r -a st0 <"/proc/$$/stat"
    BENCH_PATHS="$paths" BENCH_AUTHS="$auths" BENCH_OUT="$out" \
        timeout --foreground -k 5 $((BENCH_DURATION + 30)) wrk "${args[@]}" -d "${BENCH_DURATION}s" "$url" \
        >"$BENCH_TMP/${case}-${round}.txt" 2>&1 || rc=$?
    read -r -a st1 <"/proc/$$/stat"
    after="$(bench_probe)"
    if ((rc != 0)) || [[ ! -s "$out" ]]; then
        BENCH_FAILED=1
        cat "$BENCH_TMP/${case}-${round}.txt" >&2 || true
        die "wrk failed for ${case} (exit ${rc})"
    fi
    line="$(jq -c --arg case "$case" --argjson round "$round" --arg url "$url" \
        --argjson conns "$conns" --argjson threads "$threads" \
        --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson before "$before" --argjson after "$after" \
        --argjson wrk_ms $(((st1[15] + st1[16] - st0[15] - st0[16]) * 1000 / $(getconf CLK_TCK))) '
        {case: $case, round: $round, url: $url, connections: $conns, threads: $threads,
         loadavg_after: $load}
        + . + {rps: (.requests / (.duration_us / 1e6))}
        + {during: (reduce ($after | paths(numbers)) as $p ({};
                      setpath($p; ($after | getpath($p)) - (($before | getpath($p)) // 0))))}
        | .during.cpu_ms.wrk = $wrk_ms
        # Busy time of the machine not spent by the stack, the shared servers or wrk: other load.
        | .during.cpu_ms.other = ([0, .during.cpu_ms.machine_busy
            - (.during.cpu_ms | del(.machine_busy, .machine_total) | add)] | max)
        | .requests as $n
        | .during.cpu_us_per_request = (.during.cpu_ms | del(.machine_total)
                                        | map_values(if $n > 0 then . * 1000 / $n else 0 end))
        ' "$out")"
    printf '%s\n' "$line" >>"$BENCH_TMP/runs.jsonl"
    jq -r '"           \(.rps | floor) req/s, p50 \(.latency_us.p50 / 1000) ms, p99 \(.latency_us.p99 / 1000) ms,"
        + " >=400: \(.errors.status), socket errors: \(.errors.connect + .errors.read + .errors.write + .errors.timeout)"' \
        <<<"$line" | while IFS= read -r l; do log "$l"; done
}

# bench_probe: counters read before and after every run (their difference is stored with
# the run): CPU time (ms) of the stack's processes (nginx's workers together, each part by
# its instance name) and of the whole machine (busy and total, from /proc/stat), of the host's MySQL/MariaDB and
# Redis servers (shared: other users of them count too), plus every "label url metric"
# line of BENCH_COUNTERS (Prometheus counters, all label sets summed) and the server-wide
# MySQL/MariaDB status counters named in BENCH_MYSQL_STATUS (as mysql_<name>).
BENCH_COUNTERS=()
BENCH_MYSQL_STATUS=()
bench_probe() {
    local hz file inst pid ticks master spec label url metric
    hz="$(getconf CLK_TCK)"
    {
        for file in "$MALL_VAR"/run/*.pid; do
            [[ -e "$file" ]] || continue
            inst="$(basename "$file" .pid)"
            pid="$(cat "$file")"
            if [[ "$inst" == nginx ]]; then
                master="$pid"
                ticks=0
                for pid in $(nginx_children "$master"); do
                    ticks=$((ticks + $(bench_proc_ticks "$pid")))
                done
            else
                ticks="$(bench_proc_ticks "$pid")"
            fi
            printf 'cpu %s %s\n' "$inst" "$((ticks * 1000 / hz))"
        done
        # The host's MySQL/MariaDB and Redis serve the stack too (but are shared with
        # anything else using them).
        printf 'cpu mysql_shared %s\n' "$(($(bench_ticks_of mariadbd mysqld) * 1000 / hz))"
        printf 'cpu redis_shared %s\n' "$(($(bench_ticks_of redis-server) * 1000 / hz))"
        awk -v hz="$hz" '$1 == "cpu" {
            total = 0; for (i = 2; i <= 9; i++) total += $i
            printf "cpu machine_busy %d\ncpu machine_total %d\n", (total - $5 - $6) * 1000 / hz, total * 1000 / hz
        }' /proc/stat
        if ((${#BENCH_MYSQL_STATUS[@]})); then
            mysql_admin -e "SHOW GLOBAL STATUS WHERE Variable_name IN ($(printf "'%s'," "${BENCH_MYSQL_STATUS[@]}" | sed 's/,$//'))" |
                awk '{printf "counter mysql_%s %s\n", $1, $2}'
        fi
        for spec in "${BENCH_COUNTERS[@]}"; do
            read -r label url metric <<<"$spec"
            printf 'counter %s %s\n' "$label" "$(bench_metric "$url" "$metric" 2>/dev/null || echo 0)"
        done
    } | jq -R -s 'split("\n") | map(select(length > 0) | split(" "))
        | {cpu_ms: (map(select(.[0] == "cpu") | {key: .[1], value: (.[2] | tonumber)}) | from_entries),
           counters: (map(select(.[0] == "counter") | {key: .[1], value: (.[2] | tonumber)}) | from_entries)}'
}

# bench_ticks_of <process name...>: CPU ticks of every process with one of these names.
bench_ticks_of() {
    local name pid ticks=0
    for name in "$@"; do
        for pid in $(pgrep -x "$name" || true); do
            ticks=$((ticks + $(bench_proc_ticks "$pid")))
        done
    done
    echo "$ticks"
}

# bench_proc_ticks <pid>: user + system CPU ticks of a process (0 when it is gone).
bench_proc_ticks() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || { echo 0; return 0; }
    # Fields after the command name (which is in parentheses): state is field 3, utime 14.
    awk '{print $12 + $13}' <<<"${stat##*) }"
}

# bench_summary_cases: per case over all its rounds, in the order the cases first ran:
# requests/s (total requests / total time), the median of the rounds' p50 and p99 (ms: one
# disturbed round does not move it), error
# counts, CPU time per request of each process (µs), how busy the whole machine was (%),
# which share of that was other load (not the stack, the shared servers or wrk: noise), and
# the bench_probe counters summed; a JSON object keyed by case.
bench_summary_cases() {
    jq -s '
        def sum_by_key(f): reduce .[] as $r ({}; reduce ($r | f | to_entries[]) as $e (.; .[$e.key] += $e.value));
        def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
        (reduce .[].case as $c ([]; if any(.[]; . == $c) then . else . + [$c] end)) as $order
        | group_by(.case) | map({key: .[0].case, value: (
            (map(.requests) | add) as $n | {
            url: .[0].url,
            connections: .[0].connections,
            threads: .[0].threads,
            rounds: length,
            requests: $n,
            rps: ($n / ((map(.duration_us) | add) / 1e6)),
            p50_ms: (map(.latency_us.p50) | median / 1000),
            p99_ms: (map(.latency_us.p99) | median / 1000),
            p50_ms_rounds: map(.latency_us.p50 / 1000),
            p99_ms_rounds: map(.latency_us.p99 / 1000),
            rps_rounds: map(.rps),
            status_ge_400: (map(.errors.status) | add),
            socket_errors: (map(.errors.connect + .errors.read + .errors.write + .errors.timeout) | add),
            cpu_us_per_request: (sum_by_key(.during.cpu_ms) | del(.machine_total) | map_values(. * 1000 / $n)),
            machine_busy_pct: ((map(.during.cpu_ms.machine_busy) | add) * 100 / (map(.during.cpu_ms.machine_total) | add)),
            other_load_pct: ((map(.during.cpu_ms.other) | add) * 100 / ([map(.during.cpu_ms.machine_busy) | add, 1] | max)),
            other_load_pct_rounds: map(.during.cpu_ms.other * 100 / ([.during.cpu_ms.machine_busy, 1] | max)),
            counters: sum_by_key(.during.counters // {})
          })}) | from_entries
        | . as $all | reduce $order[] as $c ({}; .[$c] = $all[$c])' "$BENCH_TMP/runs.jsonl"
}

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
