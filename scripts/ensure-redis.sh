#!/usr/bin/env bash
# Finds redis-server for the scale-out tests and bench, installing Debian's `redis-server` when none
# is found. Tests start their own server on a free port, with nothing persisted:
#   REDIS_SERVER="$(bash scripts/ensure-redis.sh)"
source "$(dirname "${BASH_SOURCE[0]}")/lib/ensure.sh"
ensure redis-server REDIS_SERVER redis-server "
The scale-out tests need Redis: apt-get install -y redis-server (Debian), or point REDIS_SERVER at redis-server." \
  redis-server /usr/bin/redis-server /usr/local/bin/redis-server
