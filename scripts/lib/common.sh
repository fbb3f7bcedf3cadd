#!/usr/bin/env bash
# Shared helpers for the operator scripts (sourced, not run).
# shellcheck disable=SC2034  # variables here are used by the scripts that source this file

# The repository root, whatever the caller's working directory.
MALL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# One build directory for the stack, the tests and CI (README.md): outside the clone, so a
# fresh clone reuses the warm build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/mall-target}"
# Debian installs nginx, mariadbd and service(8) in sbin directories, which a non-login PATH
# (a CI runner's) may lack: then nginx was "missing" after apt-get had installed it.
for d in /usr/local/sbin /usr/sbin /sbin; do
    [[ ":$PATH:" == *":$d:"* ]] || PATH="$PATH:$d"
done
export PATH

# --- messages ------------------------------------------------------------------------

log() {
    printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2
}

warn() {
    printf '%s warning: %s\n' "[$(date +%H:%M:%S)]" "$*" >&2
}

die() {
    printf '%s error: %s\n' "[$(date +%H:%M:%S)]" "$*" >&2
    exit 1
}

have() {
    command -v "$1" >/dev/null 2>&1
}

# --- randomness ----------------------------------------------------------------------

# random_hex <bytes>: that many random bytes as lowercase hex.
random_hex() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# --- ports and HTTP ------------------------------------------------------------------

# port_in_use <port>: true when something accepts connections on 127.0.0.1:<port>.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port_base: a MALL_PORT_BASE for a private stack (scripts/test, its blue/green step,
# scripts/bench) whose blue ports (base..+9), green ports (+100..+109) and nginx's (+50..+53:
# public, internal, two bench-only servers) are all free, below the kernel's ephemeral port
# range: an outgoing connection (tests and benchmarks open many, and run beside each other)
# can then never take one of them between this check and the bind.
free_port_base() {
    local low _high top attempt base p ok
    read -r low _high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    top=$(((low - 200) / 100))
    ((top > 110)) || top=600
    for attempt in $(seq 1 50); do
        base=$(((100 + RANDOM % (top - 100)) * 100))
        ok=1
        for p in $(seq "$base" $((base + 9))) $(seq $((base + 100)) $((base + 109))) \
            $(seq $((base + 50)) $((base + 53))); do
            if port_in_use "$p"; then
                ok=0
                break
            fi
        done
        if ((ok)); then
            echo "$base"
            return 0
        fi
        : "$attempt"
    done
    return 1
}

# http_status <url>: the status code, or 000 when nothing answers.
http_status() {
    curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true
}

# wait_for <seconds> <description> <command...>: polls the command until it succeeds or the
# deadline passes (then returns 1). Polling, not sleeping a guessed amount.
wait_for() {
    local seconds="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            warn "timed out after ${seconds}s waiting for ${what}"
            return 1
        fi
        sleep 0.2
    done
}

# --- processes -----------------------------------------------------------------------

# pid_alive <pid>: true when the process exists (and is not a zombie).
pid_alive() {
    local state
    [[ -n "$1" ]] || return 1
    state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z* ]]
}

# pid_runs <pid> <executable name>: true when that pid is alive and runs that executable,
# so a recycled pid is never mistaken for one of ours.
pid_runs() {
    local pid="$1" name="$2" exe
    pid_alive "$pid" || return 1
    exe="$(ps -o comm= -p "$pid" 2>/dev/null)" || return 1
    # comm is truncated to 15 characters.
    [[ "$exe" == "${name:0:15}" ]]
}

# stop_pid <pid> <name> [grace seconds]: TERM, wait up to the grace period, then KILL.
stop_pid() {
    local pid="$1" name="$2" grace="${3:-15}"
    pid_runs "$pid" "$name" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    if ! wait_for "$grace" "${name} (pid ${pid}) to exit" not_running "$pid"; then
        warn "${name} (pid ${pid}) ignored SIGTERM for ${grace}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_for 5 "${name} (pid ${pid}) to die" not_running "$pid" || true
    fi
}

not_running() {
    ! pid_alive "$1"
}

# --- operator tools --------------------------------------------------------------------------
# tool_bin <binary> <image>: the path of an operator tool of the workspace (`mall`,
# `mall-trace`): cargo's build here (built first when cargo exists; MALL_PROFILE [debug]),
# else, on a host without Rust (the EC2 host), the binary copied once out of <image>, the
# pipeline's ops image of this commit (docs/deploy.md), cached by image id.
tool_bin() {
    local name="$1" image="$2" p="${MALL_PROFILE:-debug}" bin id c
    bin="$CARGO_TARGET_DIR/$p/$name"
    if have cargo; then
        (cd "$MALL_ROOT" && cargo build -q --locked -p "$name" --profile "${p/debug/dev}") >&2 ||
            warn "could not build $name"
    fi
    if [[ ! -x "$bin" ]] && have docker && id="$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null)"; then
        bin="${XDG_CACHE_HOME:-$HOME/.cache}/mall/$name-${id#sha256:}"
        mkdir -p "${bin%/*}"
        if [[ ! -x "$bin" ]]; then
            # An ops image has no command of its own; create never runs the one named here.
            c="$(docker create "$image" "/usr/local/bin/$name")" && docker cp "$c:/usr/local/bin/$name" "$bin.tmp" &&
                docker rm "$c" >/dev/null && mv "$bin.tmp" "$bin"
        fi
    fi
    [[ -x "$bin" ]] || die "no $name at $bin: install Rust (cargo builds it) or load the image $image"
    printf '%s\n' "$bin"
}
