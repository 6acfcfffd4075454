#!/usr/bin/env bash
# The `hubroute` process as an operator runs it (issues 9 and 10): it stays up when it has no
# job workers or no database at start, it refuses bad settings by name, it stops with a clear
# reason when a part of it fails, and in none of these does a configured secret reach its
# output.
#
#   HUBROUTE_BIN=.build/debug/hubroute DATABASE_URL=postgres://postgres@127.0.0.1:PORT/db \
#     scripts/tests/service_lifecycle_test.sh
#
# DATABASE_URL names a migrated database. Prints ok/not ok per check and a summary; exits 1 on
# any failure.
set -euo pipefail

BIN=${HUBROUTE_BIN:?set HUBROUTE_BIN to the hubroute executable}
DB=${DATABASE_URL:?set DATABASE_URL to a migrated database}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hubroute-lifecycle.XXXXXX")
PIDS=()
passed=0 failed=0

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); printf 'ok - %s\n' "$1"; }
not_ok() { failed=$((failed + 1)); printf 'not ok - %s\n' "$1"; [ -z "${2:-}" ] || printf '  %s\n' "$2"; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-}"; fi; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Known values for every secret, so the output can be searched for them.
export JWT_SECRET="lifecycle-jwt-4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e"
export HANDOVER_CODE_KEY="lifecycle-handover-8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c"
export MPESA_CALLBACK_SECRET="lifecycle-callback-1a2b3c4d5e6f7a8b9c"
export DARAJA_PASSKEY="lifecycle-passkey-0d1e2f3a4b"
export DARAJA_CONSUMER_SECRET="lifecycle-consumer-5e6f7a8b"
export DARAJA_CONSUMER_KEY="lifecycle-consumer-key-9c8b7a"
export APP_ENV=test BCRYPT_COST=4 LOG_LEVEL=debug
SECRETS=("$JWT_SECRET" "$HANDOVER_CODE_KEY" "$MPESA_CALLBACK_SECRET" "$DARAJA_PASSKEY" "$DARAJA_CONSUMER_SECRET" "$DARAJA_CONSUMER_KEY" "db-password-in-url")

no_secrets_in() {
    local file=$1 secret
    for secret in "${SECRETS[@]}"; do
        if grep -qF -- "$secret" "$file"; then return 1; fi
    done
}

# wait_for URL STATUS: polls until URL answers STATUS, for at most 30 seconds.
wait_for() {
    local url=$1 status=$2 tries=0
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = "$status" ]; do
        tries=$((tries + 1))
        [ "$tries" -lt 300 ] || return 1
        sleep 0.1
    done
}

# A process that should stay up: started in the background, its output in $WORK/$1.log.
serve() {
    local name=$1
    shift
    env "$@" "$BIN" serve > "$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    echo $!
}

# 1. A bad setting is refused by name, without printing the configuration.
set +e
PORT=eighty DATABASE_URL="$DB" "$BIN" serve > "$WORK/bad-setting.log" 2>&1
status=$?
set -e
check "a bad setting stops the start" '[ "$status" -ne 0 ]'
check "the refusal names the setting" 'grep -q "PORT" "$WORK/bad-setting.log"' "$(head -3 "$WORK/bad-setting.log")"
check "the refusal prints no secret" 'no_secrets_in "$WORK/bad-setting.log"'

set +e
APP_ENV=production BCRYPT_COST=12 DARAJA_SHORTCODE=600000 DARAJA_BASE_URL=http://127.0.0.1:8090 \
    PUBLIC_BASE_URL=https://api.example.co.ke DATABASE_URL="$DB" "$BIN" serve > "$WORK/production.log" 2>&1
status=$?
set -e
check "production refuses a plain-http Daraja address" '[ "$status" -ne 0 ] && grep -q "DARAJA_BASE_URL" "$WORK/production.log"' \
    "$(head -3 "$WORK/production.log")"
check "that refusal prints no secret" 'no_secrets_in "$WORK/production.log"'

# 2. No job workers: the service stays up and serves.
port=$(free_port)
pid=$(serve no-workers PORT="$port" JOB_WORKERS=0 DATABASE_URL="$DB")
if wait_for "http://127.0.0.1:$port/ready" 200; then ok "JOB_WORKERS=0 serves (ready)"; else not_ok "JOB_WORKERS=0 serves (ready)" "$(tail -5 "$WORK/no-workers.log")"; fi
check "JOB_WORKERS=0 answers requests" '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/api/v1/products")" = 200 ]'
check "JOB_WORKERS=0 is still running" 'kill -0 "$pid" 2>/dev/null'
check "the start line names version, address and background work" \
    'grep -q "hubroute starting" "$WORK/no-workers.log" && grep -q "version=" "$WORK/no-workers.log" && grep -q "background=none" "$WORK/no-workers.log"'

# 3. A service that fails: the port is taken, so the HTTP server cannot start.
set +e
PORT="$port" JOB_WORKERS=1 DATABASE_URL="$DB" timeout 60 "$BIN" serve > "$WORK/port-taken.log" 2>&1
status=$?
set -e
check "a service that fails stops the process with a reason" '[ "$status" -ne 0 ] && [ "$status" -ne 124 ] && grep -qi "address" "$WORK/port-taken.log"' \
    "$(tail -3 "$WORK/port-taken.log")"
check "that failure prints no secret" 'no_secrets_in "$WORK/port-taken.log"'
kill "$pid" 2>/dev/null || true

# 4. No database at start: the service serves 503 fast instead of exiting.
closed=$(free_port)
port=$(free_port)
pid=$(serve no-database PORT="$port" JOB_WORKERS=2 DATABASE_URL="postgres://hubroute:db-password-in-url@127.0.0.1:$closed/hubroute")
if wait_for "http://127.0.0.1:$port/health" 200; then ok "without a database the service starts (health)"; else not_ok "without a database the service starts (health)" "$(tail -5 "$WORK/no-database.log")"; fi
check "without a database it is not ready" '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/ready")" = 503 ]'
reply=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/api/v1/products")
check "without a database requests answer 503 database_unavailable" '[[ "$reply" == *database_unavailable*503 ]]' "$reply"
check "without a database it is still running" 'kill -0 "$pid" 2>/dev/null'
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
check "without a database nothing secret is logged" 'no_secrets_in "$WORK/no-database.log"'
check "no log line holds the callback path" '! grep -qF "/callback/$MPESA_CALLBACK_SECRET" "$WORK"/*.log'

printf 'service_lifecycle: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
