#!/usr/bin/env bash
# Rendering nginx's config for the local runtime (sourced, after common.sh).
#
# The template in nginx/ is the one compose renders too; here only the MALL_* variables it
# names are substituted, so nginx's own $variables stay as they are.

# The template variables (nginx/nginx.conf.template's header lists the same).
NGINX_TEMPLATE_VARS=(
    MALL_NGINX_USER MALL_NGINX_PID MALL_NGINX_LOG_DIR MALL_NGINX_TEMP_DIR
    MALL_NGINX_LISTEN MALL_NGINX_INTERNAL_LISTEN MALL_WEB_ROOT MALL_LOGIN_RATE MALL_LOGIN_BURST
    MALL_TRUSTED_PROXY_CIDR
)

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

# write_upstream <nginx dir> <part> <address> <slot>: writes upstreams/<part>.conf atomically
# (a temp file in the same directory, then rename).
write_upstream() {
    local dir="$1/upstreams" part="$2" tmp
    mkdir -p "$dir"
    tmp="$(mktemp "$dir/.${part}.XXXXXX")"
    upstream_conf "$part" "$3" "$4" >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$dir/${part}.conf"
}

# render_nginx_conf <nginx dir>: nginx.conf from the template, plus a copy of the snippets.
# Expects the MALL_NGINX_* variables (see NGINX_TEMPLATE_VARS) to be exported.
render_nginx_conf() {
    local dir="$1" var list=""
    for var in "${NGINX_TEMPLATE_VARS[@]}"; do
        [[ -n "${!var:-}" ]] || die "render_nginx_conf: ${var} is not set"
        list+="\${${var}} "
    done
    mkdir -p "$dir/snippets" "$MALL_NGINX_TEMP_DIR"
    envsubst "$list" <"$MALL_ROOT/nginx/nginx.conf.template" >"$dir/nginx.conf.tmp"
    mv -f "$dir/nginx.conf.tmp" "$dir/nginx.conf"
    rm -f "$dir"/snippets/*.conf
    cp "$MALL_ROOT"/nginx/snippets/*.conf "$dir/snippets/"
}

# nginx_cmd <nginx dir> <args...>: runs nginx against the rendered config.
nginx_cmd() {
    local dir="$1"
    shift
    TZ=UTC nginx -p "$dir/" -c "$dir/nginx.conf" "$@"
}

# --- blue/green switching (scripts/blue-green, local runtime) -------------------------------

# upstream_addr_in <file>: the address of the (single) server line of an upstream file.
upstream_addr_in() {
    sed -n 's/^[[:space:]]*server[[:space:]]\{1,\}\([^[:space:];]*\).*/\1/p' "$1" | head -n 1
}

# nginx_test_candidate <nginx dir> <part> <address> <slot>: `nginx -t` of the running config
# with upstreams/<part>.conf replaced, on a throw-away copy of the config tree, so the live
# files are touched only once the candidate is known to load.
nginx_test_candidate() {
    local dir="$1" part="$2" addr="$3" slot="$4" cand entry rc=0
    cand="$(mktemp -d "$dir/.candidate.XXXXXX")"
    for entry in nginx.conf snippets upstreams extra; do
        [[ -e "$dir/$entry" ]] && cp -R "$dir/$entry" "$cand/"
    done
    mkdir -p "$cand/upstreams"
    upstream_conf "$part" "$addr" "$slot" >"$cand/upstreams/${part}.conf"
    TZ=UTC nginx -t -q -p "$dir/" -c "$cand/nginx.conf" || rc=$?
    rm -rf "$cand"
    return "$rc"
}

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

# worker_shutdown_timeout_of <nginx.conf>: the seconds old workers may take after a reload
# (the config's worker_shutdown_timeout, "30s" style; 30 when it sets none).
worker_shutdown_timeout_of() {
    local value
    value="$(sed -n 's/^[[:space:]]*worker_shutdown_timeout[[:space:]]\{1,\}\([0-9]\{1,\}\)s\{0,1\};.*/\1/p' "$1" | head -n 1)"
    echo "${value:-30}"
}
