#!/bin/sh
# As the official redis image does: a redis-server started with arguments but no config
# file listens on every interface without protected mode (the container's network is the
# boundary; only the mall's containers reach it).
set -eu
if [ "${1:-}" = redis-server ]; then
    case " $* " in
        *" --protected-mode "*) ;;
        *) set -- "$@" --protected-mode no ;;
    esac
fi
exec "$@"
