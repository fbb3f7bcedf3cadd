#!/usr/bin/env bash
# Rendering nginx's config for the local runtime (sourced, after common.sh).
#
# The template in nginx/ is the one compose renders too; here only the MALL_* variables it
# names are substituted, so nginx's own $variables stay as they are.

# The template variables (nginx/nginx.conf.template's header lists the same).
NGINX_TEMPLATE_VARS=(
    MALL_NGINX_USER MALL_NGINX_PID MALL_NGINX_LOG_DIR MALL_NGINX_TEMP_DIR
    MALL_NGINX_LISTEN MALL_NGINX_INTERNAL_LISTEN MALL_WEB_ROOT MALL_LOGIN_RATE MALL_LOGIN_BURST
)

# upstream_conf <part> <address> <slot>: the text of upstreams/<part>.conf. The one format
# scripts/blue-green rewrites: the upstream is named after the part, one server line.
upstream_conf() {
    local part="$1" addr="$2" slot="$3"
    cat <<CONF
# Live slot of ${part}: ${slot}. Written by the mall's scripts; do not edit by hand.
upstream ${part} {
    server ${addr};
    keepalive 32;
    keepalive_timeout 60s;
}
CONF
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
