#!/usr/bin/env bash
# The web console in a real browser (issue 14): Debian's Chromium driven by Playwright for
# Python, against `hubroute serve` with the demo data and `daraja-sim` for the refund payout.
#
#   HUBROUTE_BIN=.build/debug/hubroute DARAJA_SIM_BIN=.build/debug/daraja-sim \
#     DATABASE_URL=postgres://postgres@127.0.0.1:PORT/empty_db scripts/tests/console_browser_test.sh
#
# DATABASE_URL names an empty database; it is migrated and seeded here. Installs what is
# missing: `chromium` (apt) and Playwright (PyPI, into the git-ignored .venv-console-tests; its
# own browser download is never used). Screenshots go to CONSOLE_ARTIFACTS (default
# test-artifacts/console, git-ignored). Exits 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/postgres.sh

BIN=${HUBROUTE_BIN:?set HUBROUTE_BIN to the hubroute executable}
SIM=${DARAJA_SIM_BIN:?set DARAJA_SIM_BIN to the daraja-sim executable}
DB=${DATABASE_URL:?set DATABASE_URL to an empty database}
ARTIFACTS=${CONSOLE_ARTIFACTS:-$PWD/test-artifacts/console}
VENV=${CONSOLE_TEST_VENV:-$PWD/.venv-console-tests}
PLAYWRIGHT_VERSION=1.65.2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hubroute-console.XXXXXX")
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v chromium >/dev/null 2>&1; then
    log "installing chromium"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
if ! "$VENV/bin/python" -c "import playwright" 2>/dev/null \
    || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("playwright"))')" != "$PLAYWRIGHT_VERSION" ]; then
    log "installing Playwright $PLAYWRIGHT_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "playwright==$PLAYWRIGHT_VERSION"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
SIM_PORT=$(free_port)
export APP_ENV=test BCRYPT_COST=4 LOG_LEVEL=warning DATABASE_URL="$DB" JOB_WORKERS=2
"$BIN" migrate >/dev/null
"$BIN" seed-demo >/dev/null

PORT=$SIM_PORT DARAJA_SIM_CALLBACK_DELAY_MS=200 "$SIM" > "$WORK/daraja-sim.log" 2>&1 &
PIDS+=($!)
PORT=$PORT DARAJA_BASE_URL="http://127.0.0.1:$SIM_PORT" PUBLIC_BASE_URL="http://127.0.0.1:$PORT" \
    "$BIN" serve > "$WORK/serve.log" 2>&1 &
PIDS+=($!)
tries=0
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/ready")" = 200 ] \
    && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SIM_PORT/")" != 000 ]; do
    tries=$((tries + 1))
    if [ "$tries" -ge 600 ]; then
        log "the service did not start; its log:"
        cat "$WORK/serve.log" >&2
        exit 1
    fi
    sleep 0.1
done

rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
status=0
BASE_URL="http://127.0.0.1:$PORT" ARTIFACTS="$ARTIFACTS" CHROMIUM="$(command -v chromium)" \
    timeout 300 "$VENV/bin/python" scripts/tests/console/browser_test.py || status=$?
if [ "$status" -ne 0 ]; then
    log "console browser tests failed; the service's log:"
    tail -50 "$WORK/serve.log" >&2
fi
exit "$status"
