#!/usr/bin/env bash
# Sets everything up and runs HubRoute with demo data on a project-local PostgreSQL.
#   scripts/run.sh          install what is missing, start the database, build, migrate, seed, serve
#   scripts/run.sh --stop   stop the project's PostgreSQL
# Data lives in .pgdata/ (ignored by git) and survives restarts. Ctrl-C stops the service.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

PG_PORT=${HUBROUTE_PG_PORT:-54329}
PG_DIR=$(cluster_dir "$PWD/.pgdata" "/var/tmp/hubroute-pgdata-$(printf '%s' "$PWD" | cksum | cut -d' ' -f1)")

if [ "${1:-}" = "--stop" ]; then
    stop_cluster "$PG_DIR"
    log "PostgreSQL stopped"
    exit 0
fi

ensure_system_packages
start_cluster "$PG_DIR" "$PG_PORT"
create_database "$PG_PORT" hubroute

export APP_ENV=${APP_ENV:-development}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:$PG_PORT/hubroute}
export PORT=${PORT:-8080}

log "building (the first build takes a few minutes)"
swift build --product hubroute
BIN=$(swift build --show-bin-path)/hubroute
"$BIN" migrate
"$BIN" seed-demo
log "serving on http://127.0.0.1:$PORT (Ctrl-C stops; scripts/run.sh --stop stops PostgreSQL)"
exec "$BIN" serve
