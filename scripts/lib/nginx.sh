#!/usr/bin/env bash
# Rendering nginx's config for the local runtime (sourced, after common.sh).
#
# The template in nginx/ is the one compose renders too; here only the MALL_* variables it
# names are substituted, so nginx's own $variables stay as they are.

# The template variables (nginx/nginx.conf.template's header lists the same).
NGINX_TEMPLATE_VARS=(
    MALL_NGINX_USER MALL_NGINX_PID MALL_NGINX_LOG_DIR MALL_NGINX_TEMP_DIR
    MALL_NGINX_LISTEN MALL_NGINX_INTERNAL_LISTEN MALL_WEB_ROOT MALL_LOGIN_RATE MALL_LOGIN_BURST
    MALL_TRUSTED_PROXY_CIDR MALL_NGINX_ERROR_LOG
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

# --- the slots (docs/runtime.md "Upstream files and slot markers") ---------------------------
#
# Every part has one upstream per slot (<part>_blue, <part>_green), written once when the
# stack is set up and never changed by a switch. Which slot gets a request is decided per
# request by upstreams/select.inc: $<part>_up is <part>_green while the marker file
# <part>.green exists in the markers directory, else <part>_blue. A blue/green switch
# creates or removes one marker: no config change, no reload, so no keep-alive connection
# of any client is closed by it.

# slot_upstreams_conf <part> <blue address> <green address> [resolver]: upstreams/<part>.conf.
slot_upstreams_conf() {
    local part="$1" name="${1//-/_}" resolver="${4:-}" slot addr
    printf '# The slots of %s. Written by the mall'"'"'s scripts; the live one is chosen per request\n' "$part"
    printf '# (upstreams/select.inc, marker %s.green). Do not edit by hand.\n' "$part"
    for slot in blue green; do
        if [[ "$slot" == blue ]]; then addr="$2"; else addr="$3"; fi
        upstream_conf "${name}_${slot}" "$addr" "$slot" "$resolver" | sed 1d
    done
}

# select_conf <markers dir>: upstreams/select.inc (included by each server of nginx.conf).
select_conf() {
    local part name
    printf '# Per request, the live slot of every part: its .green marker in %s, else blue.\n' "$1"
    printf '# Written by the mall'"'"'s scripts; do not edit by hand.\n'
    for part in "${UPSTREAM_PARTS[@]}"; do
        name="${part//-/_}"
        printf 'set $%s_up %s_blue;\nif (-f %s/%s.green) {\n    set $%s_up %s_green;\n}\n' \
            "$name" "$name" "$1" "$part" "$name" "$name"
    done
}

# write_atomic <file>: stdin into the file, through a temp file in its directory and a rename.
write_atomic() {
    local file="$1" tmp
    mkdir -p "$(dirname "$file")"
    tmp="$(mktemp "$(dirname "$file")/.$(basename "$file").XXXXXX")"
    cat >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$file"
}

# set_marker <markers dir> <part> <slot>: makes <slot> the part's live slot (green: the
# marker exists; blue: it does not). Each is one atomic file system operation.
set_marker() {
    if [[ "$3" == green ]]; then
        printf 'live slot of %s: green\n' "$2" | write_atomic "$1/$2.green"
    else
        rm -f "$1/$2.green"
    fi
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
