#!/bin/sh
# The container's entry command (after tini): migrate before the daemon starts (idempotent,
# and safe when several containers start at once), then exec, so the daemon itself gets
# tini's SIGTERM. Any other command (status, check, outbox ...) runs as given.
set -eu
if [ "${1:-}" = "run" ]; then
    feedamp-sync db upgrade
fi
exec feedamp-sync "$@"
