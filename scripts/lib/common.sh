#!/usr/bin/env bash
# What the shims in scripts/ (dev, test, bench, blue-green, trace, deploy-plan) share:
# the repository root, the build directory, a PATH with the sbin directories, and
# tool_bin, the path of the operator binary they exec (sourced, not run).

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

have() {
    command -v "$1" >/dev/null 2>&1
}

# tool_bin <binary> <image>: the path of an operator tool of the workspace (`mall`,
# `mall-trace`): cargo's build here (built first when cargo exists; MALL_PROFILE [debug]),
# else, on a host without Rust (the EC2 host), the binary copied once out of <image>, the
# pipeline's ops image of this commit (docs/deploy.md), cached by image id.
tool_bin() {
    local name="$1" image="$2" p="${MALL_PROFILE:-debug}" bin id c
    bin="$CARGO_TARGET_DIR/$p/$name"
    if have cargo; then
        (cd "$MALL_ROOT" && cargo build -q --locked -p "$name" --profile "${p/debug/dev}") >&2 ||
            printf 'warning: could not build %s\n' "$name" >&2
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
    if [[ ! -x "$bin" ]]; then
        printf 'error: no %s at %s: install Rust (cargo builds it) or load the image %s\n' "$name" "$bin" "$image" >&2
        exit 1
    fi
    printf '%s\n' "$bin"
}
