# Shared by the subcommands of scripts/bench.sh: release build, a PostgreSQL cluster of the
# benchmark's own (durable settings, csv log for traces and plans, auto_explain loaded but off),
# bulk seeding, the service started as a production-like process, and cleanup on exit.
# Sourced from the repository's root, after scripts/lib/postgres.sh.

BENCH_POOL_SIZE=${BENCH_POOL_SIZE:-8}
BENCH_PASSWORD="bench-password-1234567890"
BENCH_TOOL="python3 scripts/bench/benchtool.py"
BENCH_SERVICE_PID=""
# Other processes a run started, stopped with it.
BENCH_OTHER_PIDS=""
BENCH_PG_DIR=""

bench_init() {
    local kind=$1
    ensure_system_packages
    if ! command -v python3 >/dev/null; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3
    fi
    BENCH_STAMP=$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p bench-results
    BENCH_RUN_DIR="$PWD/bench-results/$kind-$BENCH_STAMP.d"
    BENCH_OUT="$PWD/bench-results/$kind-$BENCH_STAMP.json"
    mkdir -p "$BENCH_RUN_DIR"
    BENCH_GIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    local pid
    for pid in $BENCH_OTHER_PIDS; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    BENCH_OTHER_PIDS=""
    if [ -n "$BENCH_SERVICE_PID" ]; then
        kill "$BENCH_SERVICE_PID" 2>/dev/null || true
        wait "$BENCH_SERVICE_PID" 2>/dev/null || true
        BENCH_SERVICE_PID=""
    fi
    if [ -n "$BENCH_PG_DIR" ]; then
        [ -f "$BENCH_PG_DIR/data/log/server.csv" ] && cp "$BENCH_PG_DIR/data/log/server.csv" "$BENCH_RUN_DIR/postgres.csv" 2>/dev/null
        stop_cluster "$BENCH_PG_DIR/data"
        rm -rf "$BENCH_PG_DIR"
        BENCH_PG_DIR=""
    fi
}

bench_build() {
    log "building release (hubroute, hubroute-load; the first build takes several minutes)"
    swift build -c release --product hubroute
    swift build -c release --product hubroute-load
    BENCH_BIN=$(swift build -c release --show-bin-path)
}

bench_start_postgres() {
    BENCH_PG_PORT=${BENCH_PG_PORT:-55439}
    while port_busy "$BENCH_PG_PORT"; do BENCH_PG_PORT=$((BENCH_PG_PORT + 1)); done
    BENCH_PG_DIR=$(mktemp -d "${TMPDIR:-/var/tmp}/hubroute-bench-pg.XXXXXX")
    if [ "$(id -u)" = 0 ]; then chmod 755 "$BENCH_PG_DIR"; fi
    start_cluster "$BENCH_PG_DIR/data" "$BENCH_PG_PORT" durable \
        "-c logging_collector=on -c log_destination=csvlog -c log_directory=log -c log_filename=server.log \
         -c shared_preload_libraries=auto_explain"
    BENCH_DB=bench
    BENCH_DB_URL="postgres://postgres@127.0.0.1:$BENCH_PG_PORT/$BENCH_DB"
    BENCH_LOG="$BENCH_PG_DIR/data/log/server.csv"
    create_database "$BENCH_PG_PORT" "$BENCH_DB"
    DATABASE_URL=$BENCH_DB_URL APP_ENV=development "$BENCH_BIN/hubroute" migrate >/dev/null
}

bench_psql() {
    psql -X -q -v ON_ERROR_STOP=1 "$BENCH_DB_URL" "$@"
}

# bench_set NAME VALUE: a server setting, in force at once in every session (reload).
bench_set() {
    bench_psql -c "ALTER SYSTEM SET $1 = '$2'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
}

# bench_marker TEXT: a line in PostgreSQL's log that the trace and plan readers look for.
bench_marker() {
    bench_psql -c "DO \$\$BEGIN RAISE LOG 'bench-marker %', '$1'; END\$\$" >/dev/null
}

bench_start_service() {
    BENCH_HTTP_PORT=${BENCH_HTTP_PORT:-18080}
    while port_busy "$BENCH_HTTP_PORT"; do BENCH_HTTP_PORT=$((BENCH_HTTP_PORT + 1)); done
    BENCH_URL="http://127.0.0.1:$BENCH_HTTP_PORT"
    log "starting the service on $BENCH_URL (pool $BENCH_POOL_SIZE, log: $BENCH_RUN_DIR/service.log)"
    # Started from the run folder, so no .env of the work tree applies.
    (cd "$BENCH_RUN_DIR" && exec env APP_ENV=development HOST=127.0.0.1 PORT="$BENCH_HTTP_PORT" DATABASE_URL="$BENCH_DB_URL" \
        DATABASE_POOL_SIZE="$BENCH_POOL_SIZE" JOB_WORKERS=0 BCRYPT_COST=4 ACCESS_TOKEN_TTL_SECONDS=86400 \
        AUTH_RATE_LIMIT_PER_IP=100000 AUTH_RATE_LIMIT_PER_EMAIL=1000 GLIBC_TUNABLES="$HUBROUTE_MALLOC_TUNABLES" \
        "$BENCH_BIN/hubroute" serve >"$BENCH_RUN_DIR/service.log" 2>&1) &
    BENCH_SERVICE_PID=$!
    local tries=0
    until curl -fs "$BENCH_URL/health" >/dev/null 2>&1; do
        tries=$((tries + 1))
        kill -0 "$BENCH_SERVICE_PID" 2>/dev/null || { log "the service stopped; see $BENCH_RUN_DIR/service.log"; return 1; }
        [ "$tries" -lt 120 ] || { log "the service did not answer /health"; return 1; }
        sleep 0.5
    done
}

# One bcrypt hash (made by the service at registration, cost 4) given to every bench account.
bench_share_password_hash() {
    curl -fs -o /dev/null -H 'Content-Type: application/json' -X POST "$BENCH_URL/api/v1/auth/register" \
        -d "{\"email\":\"bench-hash@bench.hubroute.test\",\"password\":\"$BENCH_PASSWORD\",\"full_name\":\"Bench\",\"phone\":\"0712345678\"}"
    bench_psql -c "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = 'bench-hash@bench.hubroute.test')
                   WHERE email LIKE 'bench-%@bench.hubroute.test'"
}

# bench_measure OUT RAW -- COMMAND...: runs COMMAND (a load generator run writing RAW) and
# writes OUT: its figures plus the service's and PostgreSQL's CPU, peak RSS and deadlocks.
# BENCH_MEASURED_PID names another process to measure as the service.
bench_measure() {
    local out=$1 raw=$2
    shift 3
    $BENCH_TOOL measure --db "$BENCH_DB_URL" --database "$BENCH_DB" --pgdata "$BENCH_PG_DIR/data" \
        --service-pid "${BENCH_MEASURED_PID:-$BENCH_SERVICE_PID}" --out "$out" --loadgen-out "$raw" -- "$@"
}

bench_load() {
    "$BENCH_BIN/hubroute-load" "$@" --base-url "$BENCH_URL"
}
