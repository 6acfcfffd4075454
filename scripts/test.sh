#!/usr/bin/env bash
# Runs the whole test suite against a throwaway PostgreSQL cluster: installs what is missing,
# starts the cluster, builds once, runs every test in that build, then the service process, the
# web console in a real browser, the backup/restore end-to-end checks on a migrated and seeded
# database, the API fuzzing (scripts/fuzz.sh), then the fault tests (scripts/faults.sh, its own
# durable cluster, the same build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

ensure_system_packages

PG_PORT=${HUBROUTE_TEST_PG_PORT:-54339}
while port_busy "$PG_PORT"; do PG_PORT=$((PG_PORT + 1)); done
PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hubroute-test-pg.XXXXXX")
cleanup() { stop_cluster "$PG_DIR"; rm -rf "$PG_DIR"; }
trap cleanup EXIT
if [ "$(id -u)" = 0 ]; then chmod 755 "$PG_DIR"; fi
start_cluster "$PG_DIR/data" "$PG_PORT" throwaway

export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

log "building"
swift build --build-tests
log "running the tests"
swift test --skip-build

BIN=$(swift build --show-bin-path)/hubroute
log "the service process: staying up, refusing bad settings, keeping secrets out of its output"
create_database "$PG_PORT" lifecycle
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/lifecycle" APP_ENV=test "$BIN" migrate >/dev/null
HUBROUTE_BIN="$BIN" DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/lifecycle" scripts/tests/service_lifecycle_test.sh

log "the web console in a real browser (screenshots in test-artifacts/console)"
create_database "$PG_PORT" console_browser
HUBROUTE_BIN="$BIN" DARAJA_SIM_BIN="$(dirname "$BIN")/daraja-sim" \
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/console_browser" scripts/tests/console_browser_test.sh

if [ -x scripts/tests/backup_restore_test.sh ]; then
    log "backup and restore, end to end"
    create_database "$PG_PORT" backup_source
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/backup_source" APP_ENV=test "$BIN" migrate >/dev/null
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/backup_source" APP_ENV=test BCRYPT_COST=4 "$BIN" seed-demo >/dev/null
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/backup_source" scripts/tests/backup_restore_test.sh
fi

log "fuzzing the HTTP API (scripts/fuzz.sh)"
FUZZ_PG_PORT=$PG_PORT FUZZ_SKIP_BUILD=1 scripts/fuzz.sh

log "fault tests (kill -9, database outage, Daraja faults, two instances)"
scripts/faults.sh --bin-dir "$(swift build --show-bin-path)"
