#!/usr/bin/env bash
# Finds redis-server for the scale-out tests and bench, installing Debian's `redis-server` with
# apt-get when none is found and we may (root or passwordless sudo). The package's own service
# is never started: tests run their own server on a free port, with nothing persisted.
#
# Messages go to stderr; the executable's path is the only thing on stdout:
#   REDIS_SERVER="$(bash scripts/ensure-redis.sh)"
set -euo pipefail

log() { printf '%s\n' "$*" >&2; }

find_redis() {
  if [[ -n "${REDIS_SERVER:-}" ]]; then
    if [[ -x "$REDIS_SERVER" && ! -d "$REDIS_SERVER" ]]; then
      printf '%s\n' "$REDIS_SERVER"
      return 0
    fi
    log "REDIS_SERVER is set to '$REDIS_SERVER' but that is not an executable file; looking elsewhere."
  fi
  local found
  for found in "$(command -v redis-server 2>/dev/null || true)" /usr/bin/redis-server /usr/local/bin/redis-server; do
    if [[ -n "$found" && -x "$found" ]]; then
      printf '%s\n' "$found"
      return 0
    fi
  done
  return 1
}

if find_redis; then exit 0; fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    log "redis-server not found, and installing it needs root: apt-get install -y redis-server (or set REDIS_SERVER)."
    exit 1
  fi
fi
log "redis-server not found: installing Debian's redis-server…"
# Keep the package's service from starting (policy-rc.d 101): tests start their own.
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends redis-server >&2; then
  $SUDO apt-get update >&2
  $SUDO apt-get install -y --no-install-recommends redis-server >&2
fi
find_redis || { log "redis-server still not found after installing it."; exit 1; }
