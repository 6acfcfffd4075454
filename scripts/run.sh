#!/usr/bin/env bash
# Sets everything up and runs HubRoute with demo data on a project-local PostgreSQL and the
# built-in Daraja simulator (daraja-sim on 127.0.0.1:8090), so M-Pesa payments work offline.
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

export DARAJA_BASE_URL=${DARAJA_BASE_URL:-http://127.0.0.1:8090}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}

log "building (the first build takes a few minutes)"
swift build --product hubroute
swift build --product daraja-sim
BIN_DIR=$(swift build --show-bin-path)
"$BIN_DIR/hubroute" migrate
"$BIN_DIR/hubroute" seed-demo

if [ "$DARAJA_BASE_URL" = "http://127.0.0.1:8090" ]; then
    log "starting the Daraja simulator on 127.0.0.1:8090 (log: .daraja-sim.log)"
    PORT=8090 "$BIN_DIR/daraja-sim" > .daraja-sim.log 2>&1 &
    SIMULATOR=$!
    trap 'kill "$SIMULATOR" 2>/dev/null || true' EXIT
fi
log "serving on http://127.0.0.1:$PORT (Ctrl-C stops; scripts/run.sh --stop stops PostgreSQL)"
GLIBC_TUNABLES="$HUBROUTE_MALLOC_TUNABLES" "$BIN_DIR/hubroute" serve
