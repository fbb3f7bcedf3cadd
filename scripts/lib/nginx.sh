#!/usr/bin/env bash
# nginx helpers scripts/test and scripts/bench still use (sourced, after common.sh):
# upstream files for the bench-only servers, nginx against a rendered config, its workers.
# `scripts/dev` renders and starts nginx in Rust (tools/mall/src/stack/nginx.rs).

# upstream_conf <part> <address> <slot> [resolver]: the text of upstreams/<part>.conf. The
# one format scripts/blue-green rewrites: the upstream is named after the part, one server
# line. With a resolver (compose: Docker's, 127.0.0.11) the server's name is resolved again
# every second, so a container recreated with a new address is reached without a reload.
upstream_conf() {
    local part="$1" addr="$2" slot="$3" resolver="${4:-}" resolve=""
    printf '# Live slot of %s: %s. Written by the mall'"'"'s scripts; do not edit by hand.\n' "$part" "$slot"
    printf 'upstream %s {\n' "$part"
    if [[ -n "$resolver" ]]; then
        printf '    zone upstream_%s 64k;\n    resolver %s valid=1s ipv6=off;\n    resolver_timeout 2s;\n' \
            "${part//-/_}" "$resolver"
        resolve=" resolve"
    fi
    printf '    server %s%s;\n    keepalive 32;\n    keepalive_timeout 60s;\n}\n' "$addr" "$resolve"
}

# nginx_cmd <nginx dir> <args...>: runs nginx against the rendered config.
nginx_cmd() {
    local dir="$1"
    shift
    TZ=UTC nginx -p "$dir/" -c "$dir/nginx.conf" "$@"
}

# --- blue/green switching (scripts/blue-green, local runtime) -------------------------------

# nginx_children <master pid>: the pids of the master's worker (and helper) processes.
nginx_children() {
    ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true
}

# load_proc_args <state dir>: mall-load's --proc arguments for the stack recorded in
# <state dir>/run (one per line: "--proc", then LABEL=PIDS): nginx's workers together, every
# other part by its name without the blue slot suffix.
load_proc_args() {
    local file inst
    for file in "$1"/run/*.pid; do
        [[ -e "$file" ]] || continue
        inst="$(basename "$file" .pid)"
        printf -- '--proc\n'
        if [[ "$inst" == nginx ]]; then
            printf 'nginx=%s\n' "$(nginx_children "$(cat "$file")" | paste -sd, -)"
        else
            printf '%s=%s\n' "${inst%-blue}" "$(cat "$file")"
        fi
    done
}
