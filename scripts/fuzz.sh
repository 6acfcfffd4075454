#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against the document the service serves (/openapi.json),
# as anonymous, customer, merchant, hub staff and admin, on a fresh database with the demo data.
#
#   scripts/fuzz.sh            build, start a throwaway PostgreSQL, fuzz, stop everything
#
# scripts/test.sh runs it after the Swift tests with its own build and cluster
# (FUZZ_PG_PORT: a running cluster's port, where `postgres` may connect without a password;
# FUZZ_SKIP_BUILD=1: use the existing debug build).
#
# Fails on any 5xx, any response the document does not describe (status, content type, body,
# headers), a wrong answer to an undocumented method or a missing required header, the service
# no longer alive at the end, or a secret it was given (or the demo password, or a token used)
# found in its log. Requests the document calls valid but the server refuses, and the reverse,
# are counted and listed without failing (some causes are beyond JSON Schema).
#
# Settings: FUZZ_SEED (default 20261123), FUZZ_MAX_EXAMPLES (generated cases per operation and
# identity in the fuzzing phase, default 12), FUZZ_WORKERS (default 1), FUZZ_KEEP=1 keeps the
# work folder (reports, logs) after a green run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh

SEED=${FUZZ_SEED:-20261123}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-12}
# One worker: CPython 3.11's parser is not thread-safe ("AST constructor recursion depth
# mismatch" inside hypothesis), and one worker keeps the order of requests, so runs repeat.
WORKERS=${FUZZ_WORKERS:-1}
VENV=.venv-fuzz
REQUIREMENTS=scripts/fuzz/requirements.txt
HELPER=scripts/fuzz/fuzz.py
IDENTITIES=(anonymous customer merchant hub_staff admin)
DEMO_PASSWORD=hubroute-demo-password

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hubroute-fuzz.XXXXXX")
OWN_CLUSTER=""
SERVICE_PID=""
PG_PORT=""
DB_NAME=""
DB_ROLE=""

psql_admin() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@" postgres; }

cleanup() {
    local status=$?
    if [ -n "$SERVICE_PID" ] && kill -0 "$SERVICE_PID" 2>/dev/null; then
        kill "$SERVICE_PID" 2>/dev/null || true
        wait "$SERVICE_PID" 2>/dev/null || true
    fi
    if [ -n "$PG_PORT" ] && [ -n "$DB_NAME" ]; then
        psql_admin -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
        psql_admin -c "DROP ROLE IF EXISTS \"$DB_ROLE\"" >/dev/null 2>&1 || true
    fi
    if [ -n "$OWN_CLUSTER" ]; then
        stop_cluster "$OWN_CLUSTER/data"
        rm -rf "$OWN_CLUSTER"
    fi
    if [ "$status" = 0 ] && [ "${FUZZ_KEEP:-0}" != 1 ]; then
        rm -rf "$WORK"
    else
        log "fuzz reports and logs kept in $WORK"
    fi
    exit "$status"
}
trap cleanup EXIT

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# --- schemathesis, pinned, in a project-local virtualenv ------------------------------------
if ! cmp -s "$REQUIREMENTS" "$VENV/.requirements" 2>/dev/null || [ ! -x "$VENV/bin/schemathesis" ]; then
    log "installing schemathesis into $VENV"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$VENV/.requirements"
fi
SCHEMATHESIS="$VENV/bin/schemathesis"

# --- the service's build and database --------------------------------------------------------
if [ "${FUZZ_SKIP_BUILD:-0}" != 1 ]; then
    ensure_system_packages
    log "building"
    swift build --product hubroute
fi
BIN=$(swift build --show-bin-path)/hubroute
[ -x "$BIN" ] || { log "no build at $BIN"; exit 1; }

if [ -n "${FUZZ_PG_PORT:-}" ]; then
    PG_PORT=$FUZZ_PG_PORT
else
    OWN_CLUSTER=$(mktemp -d "${TMPDIR:-/tmp}/hubroute-fuzz-pg.XXXXXX")
    if [ "$(id -u)" = 0 ]; then chmod 755 "$OWN_CLUSTER"; fi
    PG_PORT=$(free_port)
    start_cluster "$OWN_CLUSTER/data" "$PG_PORT" throwaway
fi

# Known secrets: the service must never write any of them (nor the tokens below) to its log.
SUFFIX=$(random_hex 4)
DB_NAME="hubroute_fuzz_$SUFFIX"
DB_ROLE="hubroute_fuzz_$SUFFIX"
export DB_PASSWORD="fuzz-db-$(random_hex 16)"
export JWT_SECRET="fuzz-jwt-$(random_hex 24)"
export HANDOVER_CODE_KEY="fuzz-handover-$(random_hex 24)"
export MPESA_CALLBACK_SECRET="fuzz-callback-$(random_hex 16)"
export DARAJA_PASSKEY="fuzz-passkey-$(random_hex 16)"
export DARAJA_CONSUMER_SECRET="fuzz-consumer-$(random_hex 16)"
export DARAJA_SECURITY_CREDENTIAL="fuzz-credential-$(random_hex 16)"
export DEMO_PASSWORD
SECRET_NAMES=(DB_PASSWORD JWT_SECRET HANDOVER_CODE_KEY MPESA_CALLBACK_SECRET DARAJA_PASSKEY DARAJA_CONSUMER_SECRET
    DARAJA_SECURITY_CREDENTIAL DEMO_PASSWORD)

psql_admin -c "CREATE ROLE \"$DB_ROLE\" LOGIN PASSWORD '$DB_PASSWORD'" >/dev/null
psql_admin -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_ROLE\"" >/dev/null

PORT=$(free_port)
export APP_ENV=test HOST=127.0.0.1 PORT LOG_LEVEL=info BCRYPT_COST=4
export DATABASE_URL="postgres://$DB_ROLE:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
# Nothing listens there: a push that gets as far as Daraja fails fast (and fuzzing never gets
# that far without a real order of the caller's).
export DARAJA_BASE_URL="http://127.0.0.1:9" DARAJA_CONSUMER_KEY=fuzz-consumer-key DARAJA_SHORTCODE=174379
export DARAJA_TIMEOUT_SECONDS=2 PUBLIC_BASE_URL="http://127.0.0.1:$PORT"

log "migrating and loading the demo data into $DB_NAME"
"$BIN" migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; exit 1; }
"$BIN" seed-demo >"$WORK/seed.log" 2>&1 || { cat "$WORK/seed.log"; exit 1; }

log "starting the service on 127.0.0.1:$PORT (log: $WORK/service.log)"
"$BIN" serve >"$WORK/service.log" 2>&1 &
SERVICE_PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
    curl -sf "$BASE/health" >/dev/null 2>&1 && break
    kill -0 "$SERVICE_PID" 2>/dev/null || { log "the service exited at start"; tail -20 "$WORK/service.log"; exit 1; }
    sleep 0.5
done
curl -sf "$BASE/openapi.json" -o "$WORK/openapi.json" || { log "the service did not come up"; exit 1; }

# --- tokens ----------------------------------------------------------------------------------
declare -A EMAIL=(
    [customer]=customer.juma@hubroute.test [merchant]=merchant.duka@hubroute.test
    [hub_staff]=staff.nbo-cbd@hubroute.test [admin]=admin@hubroute.test)
declare -A TOKEN=()
for role in customer merchant hub_staff admin; do
    curl -sf "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"${EMAIL[$role]}\",\"password\":\"$DEMO_PASSWORD\"}" -o "$WORK/login-$role.json" \
        || { log "login as $role failed"; exit 1; }
    TOKEN[$role]=$(python3 "$HELPER" token "$WORK/login-$role.json" access_token)
    export "ACCESS_TOKEN_${role^^}=${TOKEN[$role]}"
    export "REFRESH_TOKEN_${role^^}=$(python3 "$HELPER" token "$WORK/login-$role.json" refresh_token)"
    SECRET_NAMES+=("ACCESS_TOKEN_${role^^}" "REFRESH_TOKEN_${role^^}")
done
rm -f "$WORK"/login-*.json

# --- fuzzing -----------------------------------------------------------------------------------
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
CHECKS="$CHECKS,response_headers_conformance,unsupported_method,missing_required_header"
CHECKS="$CHECKS,positive_data_acceptance,negative_data_rejection"
log "fuzzing with seed $SEED, $MAX_EXAMPLES examples per operation and identity"
STARTED=$SECONDS
for identity in "${IDENTITIES[@]}"; do
    args=()
    while read -r operation; do args+=(--include-operation-id "$operation"); done \
        < <(python3 "$HELPER" operations "$WORK/openapi.json" "$identity")
    if [ "$identity" != anonymous ]; then args+=(-H "Authorization: Bearer ${TOKEN[$identity]}"); fi
    began=$SECONDS
    # Exit codes are judged from the report below, so a failing check does not stop the loop.
    "$SCHEMATHESIS" --config-file scripts/fuzz/schemathesis.toml run "$BASE/openapi.json" "${args[@]}" \
        --checks "$CHECKS" --seed "$SEED" --max-examples "$MAX_EXAMPLES" \
        --phases examples,coverage,fuzzing --mode all --workers "$WORKERS" \
        --request-timeout 10 --continue-on-failure --no-shrink --generation-database none \
        --suppress-health-check all --warnings off --no-color \
        --report json --report-json-path "$WORK/$identity.json" \
        >"$WORK/$identity.log" 2>&1 || true
    log "$identity: $((SECONDS - began)) s"
done
FUZZ_SECONDS=$((SECONDS - STARTED))

# --- verdict ---------------------------------------------------------------------------------
status=0
if kill -0 "$SERVICE_PID" 2>/dev/null && curl -sf --max-time 5 "$BASE/health" >/dev/null; then
    alive="alive"
else
    alive="DEAD"
    status=1
fi
kill "$SERVICE_PID" 2>/dev/null || true
wait "$SERVICE_PID" 2>/dev/null || true
SERVICE_PID=""

leaked=$(python3 "$HELPER" leaks "$WORK/service.log" "${SECRET_NAMES[@]}")
server_errors=$(grep -c '"unhandled error"\|unhandled error' "$WORK/service.log" || true)

echo
echo "Fuzz summary (schemathesis $("$SCHEMATHESIS" --version | awk '{print $NF}'), seed $SEED, $MAX_EXAMPLES examples, ${FUZZ_SECONDS} s of fuzzing)"
python3 "$HELPER" summary "$WORK" "${IDENTITIES[@]}" || status=1
echo
echo "service at the end: $alive; unhandled errors in its log: $server_errors"
if [ -n "$leaked" ]; then
    echo "SECRETS IN THE SERVICE LOG: $(echo "$leaked" | tr '\n' ' ')"
    status=1
else
    echo "secrets in the service log: none of ${#SECRET_NAMES[@]} looked for"
fi
read -r cases failed < "$WORK/totals" || { cases=0; failed=1; }
[ "$alive" = alive ] || failed=$((failed + 1))
[ -z "$leaked" ] || failed=$((failed + $(echo "$leaked" | wc -l)))
if [ "$status" != 0 ]; then
    echo "schemathesis output: $WORK/<identity>.log"
    for identity in "${IDENTITIES[@]}"; do
        if grep -q "= FAILURES =\|= ERRORS =" "$WORK/$identity.log" 2>/dev/null; then
            echo "--- $identity"
            sed -n '/= \(FAILURES\|ERRORS\) =/,$p' "$WORK/$identity.log" | head -200
        fi
    done
fi
# The closing line: cases without a failure, failures (of a check, the service or its log).
echo "fuzz: $((cases - ${failed:-0} > 0 ? cases - ${failed:-0} : 0)) passed, $failed failed"
exit "$status"
