#!/usr/bin/env bash
# Debian's PostgreSQL 15 server, which the service's tests start on a free port
# (scripts/postgres_server.py). `make setup` runs this only when $PG_BIN/pg_ctl (default
# /usr/lib/postgresql/15/bin) is missing. Needs root or password-less sudo; elsewhere, install
# PostgreSQL 15 yourself and set PG_BIN to its bin folder. Only the binaries are used: the
# cluster Debian's package may create and start is left alone (the tests make their own).
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "install-postgres: need root or sudo for apt-get; or install PostgreSQL 15 and set PG_BIN=/path/to/its/bin" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
"${PG_BIN:-/usr/lib/postgresql/15/bin}/pg_ctl" --version
