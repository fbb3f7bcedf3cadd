#!/bin/sh
# The part of the official nginx image's entrypoint the mall uses: render every
# /etc/nginx/templates/<path>.template into ${NGINX_ENVSUBST_OUTPUT_DIR}/<path>, substituting
# only the environment variables whose names match ${NGINX_ENVSUBST_FILTER} (so nginx's own
# $variables stay), then exec the command.
set -eu
templates=/etc/nginx/templates
out="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
filter="${NGINX_ENVSUBST_FILTER:-}"
if [ "${1:-}" = nginx ] && [ -d "$templates" ]; then
    defined="$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/^/${/; s/$/}/' | tr '\n' ' ')"
    find "$templates" -follow -type f -name '*.template' | while read -r template; do
        relative="${template#"$templates"/}"
        target="$out/${relative%.template}"
        mkdir -p "$(dirname "$target")"
        echo "docker-entrypoint.sh: rendering $template to $target" >&2
        envsubst "$defined" <"$template" >"$target"
    done
fi
exec "$@"
