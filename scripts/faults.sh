#!/usr/bin/env bash
# Fault tests (issue 10 item 5): real `hubroute serve` processes on loopback, under load from
# scripts/faults/load.py, while something breaks:
#
#   kill9    the service is killed with SIGKILL during checkout load and started again
#   outage   PostgreSQL stops (immediate shutdown) for 10 s under load and comes back
#   daraja   Daraja is down, answers a gateway error, then answers too late, during STK pushes
#   two      two service instances share one database under load (jobs, rate limits, stock)
#
#   scripts/faults.sh [--bin-dir DIR] [--keep] [SCENARIO...]     (default: every scenario)
#
# It starts its own PostgreSQL cluster (durable: fsync on, so what PostgreSQL acknowledged is
# really kept), builds the debug products unless --bin-dir names a build holding `hubroute` and
# `daraja-sim`, prints `ok`/`not ok` per check with the measured figures, stops everything it
# started on exit and exits non-zero when any check failed. --keep (or a failure) keeps the
# work folder: logs of every process and every recorded response.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
ROOT=$PWD

BIN_DIR=""
KEEP=no
SCENARIOS=()
while [ $# -gt 0 ]; do
    case $1 in
        --bin-dir) BIN_DIR=$2; shift 2 ;;
        --keep) KEEP=yes; shift ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        kill9 | outage | daraja | two) SCENARIOS+=("$1"); shift ;;
        *) log "unknown argument: $1 (see --help)"; exit 2 ;;
    esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(kill9 outage daraja two)

# Settings shared by the scenarios: short time limits keep a run short, and a request waiting
# past them stands out.
DATABASE_TIMEOUT=2
DARAJA_TIMEOUT=2
# A request slower than this during an outage counts as a hang.
HANG_MS=$(((DATABASE_TIMEOUT + 3) * 1000))
LOAD_CUSTOMERS=24

PASSED=0
FAILED=0
STARTED_AT=$SECONDS
declare -A PIDS=()
WORK=""
PG_DIR=""
PG_PORT=""
NO_DARAJA_PORT=""
HOT_PRODUCT=""

# MARK: plumbing

cleanup() {
    local status=$?
    local name
    for name in "${!PIDS[@]}"; do stop_process "$name"; done
    if [ -n "$PG_DIR" ]; then stop_cluster "$PG_DIR"; fi
    if [ -n "$WORK" ]; then
        if [ "$KEEP" = yes ] || [ "$FAILED" -gt 0 ] || [ "$status" -ne 0 ]; then
            log "logs and recorded responses kept in $WORK"
            cp "$PG_DIR/server.log" "$WORK/postgresql.log" 2>/dev/null || true
            rm -rf "$PG_DIR"
        else
            rm -rf "$WORK"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A set-up step that fails stops the run; say which.
set -E
trap 'log "stopped: line $LINENO: $BASH_COMMAND"' ERR

clock() { date +%s.%N; }
# seconds_between A B: B - A with two decimals.
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# check DESCRIPTION CONDITION: CONDITION is 1 (holds) or anything else (does not), e.g. $((a == 0)).
check() {
    local description=$1 condition=$2
    if [ "$condition" = 1 ]; then
        printf 'ok - %s\n' "$description"
        PASSED=$((PASSED + 1))
    else
        printf 'not ok - %s\n' "$description"
        FAILED=$((FAILED + 1))
    fi
}

figure() { printf '   %s\n' "$*"; }
# holds COMMAND...: 1 when the command succeeds, else 0 (for check).
holds() { if "$@" 2>/dev/null; then echo 1; else echo 0; fi; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it succeeds or time is up.
wait_until() {
    local limit=$1 what=$2
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "gave up after ${limit}s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

USED_PORTS=" "
# pick_port VARIABLE START: a loopback port nothing listens on and this run has not handed out.
pick_port() {
    local candidate=$2
    while port_busy "$candidate" || [[ $USED_PORTS == *" $candidate "* ]]; do candidate=$((candidate + 1)); done
    USED_PORTS="$USED_PORTS$candidate "
    printf -v "$1" '%s' "$candidate"
}

sql() {
    local db=$1
    shift
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" -v ON_ERROR_STOP=1 -XqAt -F ' ' "$@"
}
# sql_true DB QUERY: succeeds when the query's single value is true.
sql_true() { [ "$(sql "$1" -c "$2")" = t ]; }

LOAD_PY=(python3 "$ROOT/scripts/faults/load.py")
load() { "${LOAD_PY[@]}" "$@"; }

# wait_for_orders DB COUNT LOAD: until the load has made COUNT orders; stops early when the
# load client has died.
wait_for_orders() {
    local db=$1 count=$2 name=$3 deadline=$((SECONDS + 60))
    until sql_true "$db" "SELECT count(*) >= $count FROM orders WHERE idempotency_key NOT LIKE 'demo-%'"; do
        if ! alive "$name" || [ "$SECONDS" -ge "$deadline" ]; then
            log "no $count orders from the load within 60 s; see $WORK/$name.log"
            tail -n 5 "$WORK/$name.log" >&2
            return 1
        fi
        sleep 0.2
    done
}

# stats PREFIX ARGS...: runs `load.py stats` and sets PREFIX_n, PREFIX_s503, PREFIX_p50_ms, ...
stats() {
    local prefix=$1 line name
    shift
    for name in $(compgen -v "${prefix}_" || true); do unset "$name"; done
    while IFS= read -r line; do
        printf -v "${prefix}_${line%%=*}" '%s' "${line#*=}"
    done < <(load stats "$@")
}

# start_process NAME COMMAND...: runs COMMAND in the work folder (so no developer's .env is
# read), output appended to NAME.log.
start_process() {
    local name=$1
    shift
    (cd "$WORK" && exec "$@") >>"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
}

# stop_process NAME [KILL]: SIGTERM (or SIGKILL) to the process this script started, by its id;
# SIGKILL after 15 s. Sets STOPPED_GRACEFULLY (yes when it ended within that time by itself).
STOPPED_GRACEFULLY=yes
stop_process() {
    local name=$1 signal=${2:-TERM}
    local pid=${PIDS[$name]:-}
    [ -n "$pid" ] || return 0
    STOPPED_GRACEFULLY=yes
    # Bash reports a job that a signal ended ("Killed") whenever it reaps it: meant here, so muted.
    {
        kill "-$signal" "$pid" || true
        local deadline=$((SECONDS + 15))
        while kill -0 "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        if kill -KILL "$pid"; then
            STOPPED_GRACEFULLY=no
            log "$name did not end within 15 s of SIG$signal; killed"
        fi
        wait "$pid" || true
    } 2>/dev/null
    unset "PIDS[$name]"
}

alive() { kill -0 "${PIDS[$1]}" 2>/dev/null; }

http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true; }
answers_ready() { [ "$(http_status "http://127.0.0.1:$1/ready")" = 200 ]; }

# start_service NAME PORT DATABASE [SETTING=VALUE...]: `hubroute serve` with only the settings
# given here (env -i), waits until /ready answers 200.
start_service() {
    local name=$1 port=$2 db=$3
    shift 3
    start_process "$name" env -i PATH="$PATH" HOME="${HOME:-/tmp}" \
        APP_ENV=test HOST=127.0.0.1 PORT="$port" LOG_LEVEL=info \
        DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$db" DATABASE_POOL_SIZE=8 \
        DATABASE_TIMEOUT_SECONDS="$DATABASE_TIMEOUT" BCRYPT_COST=4 JOB_WORKERS=2 \
        AUTH_RATE_LIMIT_PER_IP=100000 AUTH_RATE_LIMIT_PER_EMAIL=1000 AUTH_RATE_LIMIT_WINDOW_SECONDS=3600 \
        TRUSTED_PROXIES=127.0.0.1 \
        DARAJA_BASE_URL="http://127.0.0.1:$NO_DARAJA_PORT" DARAJA_TIMEOUT_SECONDS="$DARAJA_TIMEOUT" \
        PUBLIC_BASE_URL="http://127.0.0.1:$port" RECONCILIATION_DELAY_SECONDS=2 \
        PAYMENT_EXPIRY_MINUTES=60 ORDER_EXPIRY_INTERVAL_SECONDS=1 \
        "$@" "$BIN_DIR/hubroute" serve
    if ! wait_until 60 "$name to answer /ready on port $port" service_ready "$name" "$port"; then
        tail -n 20 "$WORK/$name.log" >&2
        return 1
    fi
}
service_ready() { alive "$1" && answers_ready "$2"; }

# MARK: set-up

build() {
    if [ -z "$BIN_DIR" ]; then
        log "building hubroute and daraja-sim (debug)"
        swift build --product hubroute
        swift build --product daraja-sim
        BIN_DIR=$(swift build --show-bin-path)
    fi
    BIN_DIR=$(cd "$BIN_DIR" && pwd) # the processes run in the work folder
    local product
    for product in hubroute daraja-sim; do
        [ -x "$BIN_DIR/$product" ] || { log "$BIN_DIR/$product is missing; build it or leave out --bin-dir"; exit 2; }
    done
}

start_database() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/hubroute-faults.XXXXXX")
    # The cluster runs as `postgres`, which must reach its data folder inside the work folder.
    if [ "$(id -u)" = 0 ]; then chmod 755 "$WORK"; fi
    PG_DIR=$WORK/pgdata
    pick_port PG_PORT 55440
    # Where the services look for Daraja unless a scenario gives them one: nothing listens there.
    pick_port NO_DARAJA_PORT 19900
    start_cluster "$PG_DIR" "$PG_PORT"
}

# The template every scenario's database is cloned from: migrated, demo data, 108 more
# customers (same password as the demo's) with one address each, stock for the load, and the
# stock baseline: per product, stock + units sold and not put back. Every later change of stock
# (checkout, cancellation, expiry, return) keeps that sum, so comparing it at the end of a
# scenario shows any unit lost or created.
make_template() {
    log "migrating and seeding the template database"
    create_database "$PG_PORT" faults_template
    local env=(env -i PATH="$PATH" HOME="${HOME:-/tmp}" APP_ENV=test BCRYPT_COST=4
        DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/faults_template")
    if ! (cd "$WORK" && "${env[@]}" "$BIN_DIR/hubroute" migrate && "${env[@]}" "$BIN_DIR/hubroute" seed-demo) >>"$WORK/template.log" 2>&1; then
        tail -n 20 "$WORK/template.log" >&2
        return 1
    fi
    sql faults_template <<'SQL'
INSERT INTO users (email, password_hash, full_name, phone)
SELECT format('customer.load%s@faults.test', lpad(i::text, 3, '0')),
       (SELECT password_hash FROM users WHERE email = 'customer.juma@hubroute.test'),
       format('Load Customer %s', i), '25479' || lpad(i::text, 7, '0')
FROM generate_series(1, 108) AS i;
INSERT INTO addresses (user_id, label, zone_id, line1, phone)
SELECT u.id, 'Home', z.id, 'Faults Road ' || u.n, u.phone
FROM (SELECT id, phone, row_number() OVER (ORDER BY email) AS n FROM users WHERE email LIKE '%@faults.test') AS u
JOIN (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k, count(*) OVER () AS zones FROM zones) AS z ON z.k = u.n % z.zones;
-- Enough stock that checkouts mostly succeed; a few scarce products sell out under load.
UPDATE products SET stock = CASE WHEN name LIKE '% 1' THEN 15 ELSE 300 END;
-- The product every "two instances" customer wants at once.
UPDATE products SET stock = 25 WHERE name = 'Ziwa Tilapia Pack 10';
CREATE TABLE faults_stock_baseline AS
SELECT p.id AS product_id, p.stock, p.stock + coalesce(sum(i.quantity - i.restocked_quantity), 0) AS units
FROM products p LEFT JOIN order_items i ON i.product_id = p.id GROUP BY p.id;
SQL
    sql faults_template -c "SELECT email FROM users WHERE email LIKE 'customer.load%' ORDER BY email" >"$WORK/customers.txt"
    sed -n '1,24p' "$WORK/customers.txt" >"$WORK/customers-load.txt"
    sed -n '25,48p' "$WORK/customers.txt" >"$WORK/customers-pay.txt"
    sed -n '49,108p' "$WORK/customers.txt" >"$WORK/customers-hot.txt"
    sql faults_template -c "SELECT id FROM products WHERE name <> 'Ziwa Tilapia Pack 10' ORDER BY id" >"$WORK/products.txt"
    HOT_PRODUCT=$(sql faults_template -c "SELECT id FROM products WHERE name = 'Ziwa Tilapia Pack 10'")
}

clone() { sql postgres -c "CREATE DATABASE $1 TEMPLATE faults_template"; }

# MARK: checks shared by the scenarios

# check_orders LABEL DB RECORDS...: what clients were told against what the database holds.
check_orders() {
    local label=$1 db=$2
    shift 2
    cat "$@" >"$WORK/$label-all.jsonl"
    load acked --records "$WORK/$label-all.jsonl" --csv "$WORK/$label-acked.csv" >/dev/null
    local acked missing differ half unconfirmed
    read -r acked missing differ half unconfirmed < <(sql "$db" <<SQL
CREATE TEMP TABLE acked (order_id uuid PRIMARY KEY, sub_orders int, items int);
\copy acked FROM '$WORK/$label-acked.csv' CSV
SELECT
    (SELECT count(*) FROM acked),
    (SELECT count(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = a.order_id)),
    (SELECT count(*) FROM acked a
     WHERE a.sub_orders <> (SELECT count(*) FROM sub_orders s WHERE s.order_id = a.order_id)
        OR a.items <> (SELECT count(*) FROM order_items i JOIN sub_orders s ON s.id = i.sub_order_id WHERE s.order_id = a.order_id)),
    (SELECT count(*) FROM orders o
     WHERE NOT EXISTS (SELECT 1 FROM sub_orders s WHERE s.order_id = o.id)
        OR o.total_cents <> (SELECT sum(s.total_cents) FROM sub_orders s WHERE s.order_id = o.id))
    + (SELECT count(*) FROM sub_orders s
       WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.sub_order_id = s.id)
          OR NOT EXISTS (SELECT 1 FROM sub_order_events e WHERE e.sub_order_id = s.id AND e.from_status IS NULL)
          OR s.items_total_cents <> (SELECT sum(i.line_total_cents) FROM order_items i WHERE i.sub_order_id = s.id)),
    (SELECT count(*) FROM orders o
     WHERE o.idempotency_key NOT LIKE 'demo-%' AND NOT EXISTS (SELECT 1 FROM acked a WHERE a.order_id = o.id));
SQL
    )
    check "$label: every order answered 2xx exists whole: master, sub-orders, items, first events ($acked acknowledged, $missing missing, $differ different)" \
        $((acked > 0 && missing == 0 && differ == 0))
    check "$label: no order exists half: no master without sub-orders, no sub-order without items or first event, totals add up ($half found)" \
        $((half == 0))
    check "$label: every order in the database was confirmed to its customer, on a retry with the same Idempotency-Key at the latest ($unconfirmed not)" \
        $((unconfirmed == 0))
}

# check_stock LABEL DB: per product, stock + units sold and not put back is what it was.
check_stock() {
    local label=$1 db=$2 drifted negative taken
    read -r drifted negative taken < <(sql "$db" -c "
        WITH current AS (
            SELECT p.id, p.stock, p.stock + coalesce(sum(i.quantity - i.restocked_quantity), 0) AS units
            FROM products p LEFT JOIN order_items i ON i.product_id = p.id GROUP BY p.id)
        SELECT count(*) FILTER (WHERE c.units IS DISTINCT FROM b.units), count(*) FILTER (WHERE c.stock < 0),
               coalesce(sum(b.stock - c.stock), 0)
        FROM faults_stock_baseline b FULL JOIN current c ON c.id = b.product_id")
    check "$label: stock conserved per product: stock + units sold and not put back unchanged ($taken units taken from stock; $drifted products off, $negative below zero)" \
        $((drifted == 0 && negative == 0))
}

# check_jobs LABEL DB: no job held past its lease, none given up.
check_jobs() {
    local label=$1 db=$2 stuck failed
    read -r stuck failed < <(sql "$db" -c "
        SELECT count(*) FILTER (WHERE finished_at IS NULL AND failed_at IS NULL AND locked_until < now()),
               count(*) FILTER (WHERE failed_at IS NOT NULL) FROM jobs")
    check "$label: no job locked past its lease ($stuck), none given up ($failed)" $((stuck == 0 && failed == 0))
}

check_start_line() {
    local label=$1 log=$2 port=$3 line named=0
    line=$(grep -m1 'hubroute starting' "$log" || true)
    figure "start line: ${line:-none}"
    if [[ $line == *version=* && $line == *"address=127.0.0.1:$port"* && $line == *background=*job\ workers* ]]; then named=1; fi
    check "$label: the service logs one start line naming its version, port and background work" "$named"
}

# load_figure RECORDS CUSTOMERS: the load's totals (sets co_* for the caller's checks).
load_figure() {
    local records=$1 customers=$2
    stats all --records "$records"
    stats co --records "$records" --op checkout
    figure "load: $customers customers, ${all_n:-0} requests; checkouts: ${co_s201:-0} x 201, ${co_s200:-0} x 200 (replays)," \
        "${co_s409:-0} x 409 (sold out), ${co_s503:-0} x 503, ${co_s0:-0} without an answer, ${co_s500:-0} x 500;" \
        "latency p50 ${co_p50_ms:-?} ms, max ${co_max_ms:-?} ms"
}

# finish_load NAME: waits for a load client and checks it ended well.
finish_load() {
    local name=$1 status=0
    wait "${PIDS[$name]}" || status=$?
    unset "PIDS[$name]"
    check "${name%-load}: the load client ran to its end (exit $status)" $((status == 0))
}

# MARK: scenarios

scenario_kill9() {
    printf '\n== kill9: SIGKILL of the service during checkout load, then a restart\n'
    local db=faults_kill9 port records=$WORK/kill9.jsonl
    clone "$db"
    pick_port port 18100
    start_service kill9 "$port" "$db"
    check_start_line kill9 "$WORK/kill9.log" "$port"
    start_process kill9-load "${LOAD_PY[@]}" checkout --bases "http://127.0.0.1:$port" --customers "$WORK/customers-load.txt" \
        --products "$WORK/products.txt" --threads "$LOAD_CUSTOMERS" --duration 12 --drain 30 --out "$records"
    # Kill once checkouts are flowing, so that some are in flight.
    wait_for_orders "$db" 60 kill9-load
    local before t_kill t_back
    before=$(sql "$db" -c "SELECT count(*) FROM orders WHERE idempotency_key NOT LIKE 'demo-%'")
    t_kill=$(clock)
    stop_process kill9 KILL
    start_service kill9 "$port" "$db"
    t_back=$(clock)
    finish_load kill9-load

    load_figure "$records" "$LOAD_CUSTOMERS"
    stats unresolved --records "$records" --op unresolved
    local leased
    leased=$(sql "$db" -c "SELECT count(*) FROM jobs WHERE finished_at IS NULL AND locked_until > now()")
    figure "killed after $before orders; ready again $(seconds_between "$t_kill" "$t_back") s after the kill;" \
        "${all_s0:-0} requests got no answer; ${co_s200:-0} checkouts were confirmed by a replay of their key;" \
        "$leased jobs held by the killed process until their lease runs out"
    check "kill9: no 500 answered (${co_s500:-0})" $((${co_s500:-0} == 0))
    check "kill9: every checkout cut by the kill got a definite answer on retry (${unresolved_n:-0} unresolved)" $((${unresolved_n:-0} == 0))
    check_orders kill9 "$db" "$records"
    check_stock kill9 "$db"
    check_jobs kill9 "$db"
    stop_process kill9
}

scenario_outage() {
    printf '\n== outage: PostgreSQL stopped (immediate shutdown) for 10 s under load, then restarted\n'
    local db=faults_outage port records=$WORK/outage.jsonl customers=16
    clone "$db"
    pick_port port 18200
    start_service outage "$port" "$db"
    local pid=${PIDS[outage]}
    start_process outage-load "${LOAD_PY[@]}" checkout --bases "http://127.0.0.1:$port" --customers "$WORK/customers-load.txt" \
        --products "$WORK/products.txt" --threads "$customers" --duration 22 --drain 20 --out "$records"
    wait_for_orders "$db" 40 outage-load
    local t_stop t_down t_start t_up t_ready
    t_stop=$(clock)
    # Immediate: like a crash, connections are cut and PostgreSQL recovers from its WAL at start.
    as_pg_owner "$(pg_bin)/pg_ctl" -D "$PG_DIR" -m immediate -w stop >/dev/null
    t_down=$(clock)
    sleep 10 # the outage itself: how long the database stays away is what this scenario is about
    t_start=$(clock)
    start_cluster "$PG_DIR" "$PG_PORT"
    t_up=$(clock)
    wait_until 30 "the service to be ready again" answers_ready "$port" || true
    t_ready=$(clock)
    finish_load outage-load

    load_figure "$records" "$customers"
    # Requests sent while PostgreSQL was down (those in flight when it went are in `every`).
    stats during --records "$records" --from "$t_down" --to "$t_up" --expected 503
    stats after --records "$records" --op checkout --after "$t_up"
    stats every --records "$records" --expected 200,201,204,409,503
    local recovery first_ok=unknown
    recovery=$(seconds_between "$t_up" "$t_ready")
    if [ -n "${after_first_ok:-}" ]; then first_ok=$(seconds_between "$t_up" "$after_first_ok"); fi
    figure "PostgreSQL away $(seconds_between "$t_stop" "$t_up") s (stopping $(seconds_between "$t_stop" "$t_down") s, stopped 10 s," \
        "starting with crash recovery $(seconds_between "$t_start" "$t_up") s)"
    figure "while it was down: ${during_n:-0} requests," \
        "${during_s503:-0} x 503, ${during_other:-0} other; latency p50 ${during_p50_ms:-?} ms, max ${during_max_ms:-?} ms"
    figure "recovery: /ready answered 200 $recovery s after PostgreSQL accepted connections again; first checkout 2xx after $first_ok s"
    check "outage: only 503 while PostgreSQL was down (${during_s503:-0} of ${during_n:-0})" \
        $((${during_n:-0} > 0 && ${during_other:-1} == 0))
    check "outage: no 500 and no request left without an answer in the whole run (${every_s500:-0} x 500, ${every_s0:-0} unanswered, ${every_other:-0} unexpected)" \
        $((${every_other:-1} == 0))
    check "outage: no hang: every request answered within $HANG_MS ms (max ${every_max_ms:-?} ms)" \
        $((${every_max_ms:-999999} <= HANG_MS))
    check "outage: the service recovered by itself within 5 s of PostgreSQL's return ($recovery s)" \
        "$(holds awk -v s="$recovery" 'BEGIN { exit !(s <= 5) }')"
    check "outage: the service process never exited" "$(holds alive outage)"
    check_orders outage "$db" "$records"
    check_stock outage "$db"
    # Requests stuck on the outage would also hold up a graceful stop.
    local t_term
    t_term=$(clock)
    stop_process outage
    check "outage: the service then stops gracefully on SIGTERM ($(seconds_between "$t_term" "$(clock)") s)" \
        "$([ "$STOPPED_GRACEFULLY" = yes ] && echo 1)"
}

# quoted_ids FILE: the order ids of a load.py orders file as a SQL list.
quoted_ids() { jq -r '[.[].order_id | "'"'"'" + . + "'"'"'"] | join(",")' "$1"; }

scenario_daraja() {
    printf '\n== daraja: during STK pushes Daraja is down, then behind a failing gateway, then answers after the timeout\n'
    local db=faults_daraja port sim_port proxy_port records=$WORK/daraja.jsonl
    clone "$db"
    pick_port port 18300
    pick_port sim_port 18390
    pick_port proxy_port 18395
    local proxy=(python3 "$ROOT/scripts/faults/daraja_proxy.py" --listen "$proxy_port")
    start_process daraja-sim env -i PATH="$PATH" HOME="${HOME:-/tmp}" HOST=127.0.0.1 PORT="$sim_port" \
        DARAJA_SIM_CALLBACK_DELAY_MS=200 "$BIN_DIR/daraja-sim"
    wait_until 30 "daraja-sim on port $sim_port" port_in_use "$sim_port"
    start_process daraja-proxy "${proxy[@]}" --upstream "$sim_port"
    wait_until 10 "the proxy" port_in_use "$proxy_port"
    start_service daraja "$port" "$db" DARAJA_BASE_URL="http://127.0.0.1:$proxy_port"
    local base="http://127.0.0.1:$port"

    load orders --bases "$base" --customers "$WORK/customers-pay.txt" --products "$WORK/products.txt" \
        --method mpesa --out "$records" --orders-out "$WORK/daraja-orders.json"
    jq '.[0:4]' "$WORK/daraja-orders.json" >"$WORK/daraja-warm.json"
    jq '.[4:]' "$WORK/daraja-orders.json" >"$WORK/daraja-fault.json"
    local faulted fault_ids
    faulted=$(jq length "$WORK/daraja-fault.json")
    fault_ids=$(quoted_ids "$WORK/daraja-fault.json")

    # Warm-up: Daraja answers, and the service holds an access token from here on.
    load push --bases "$base" --orders "$WORK/daraja-warm.json" --phase warm --out "$records"
    wait_until 20 "the warm-up payments to succeed" sql_true "$db" "SELECT count(*) = 4 FROM payments WHERE status = 'succeeded'"

    # Down: nothing listens at DARAJA_BASE_URL.
    stop_process daraja-proxy
    load push --bases "$base" --orders "$WORK/daraja-fault.json" --phase down --out "$records"
    # A gateway in front of Daraja answers 503 with a page of its own.
    start_process daraja-proxy "${proxy[@]}" --gateway-error
    wait_until 10 "the proxy" port_in_use "$proxy_port"
    load push --bases "$base" --orders "$WORK/daraja-fault.json" --phase gateway --out "$records"
    stop_process daraja-proxy
    # Slow: Daraja acts on each push at once but answers after twice the timeout.
    start_process daraja-proxy "${proxy[@]}" --upstream "$sim_port" --delay-ms $((DARAJA_TIMEOUT * 2000))
    wait_until 10 "the proxy" port_in_use "$proxy_port"
    load push --bases "$base" --orders "$WORK/daraja-fault.json" --phase slow --probe "/api/v1/products?limit=5" --out "$records"
    stop_process daraja-proxy
    # Back: the same orders are pushed again; every other phone never gets a callback, so the
    # reconciliation job (STK query after RECONCILIATION_DELAY_SECONDS) has to settle those.
    start_process daraja-proxy "${proxy[@]}" --upstream "$sim_port"
    wait_until 10 "the proxy" port_in_use "$proxy_port"
    local t_back t_settled
    t_back=$(clock)
    load push --bases "$base" --orders "$WORK/daraja-fault.json" --phase back --phone-suffix alternate --out "$records"
    wait_until 40 "every payment to be settled" sql_true "$db" "SELECT count(*) = 0 FROM payments WHERE status = 'pending'" || true
    t_settled=$(clock)
    # Pushes that timed out at our end but reached M-Pesa: the simulator accepted them (its log),
    # yet no payment of ours holds their CheckoutRequestID. Their callbacks must all be kept.
    local accepted recorded
    accepted=$(grep -c 'POST /mpesa/stkpush/v1/processrequest 200' "$WORK/daraja-sim.log" || true)
    recorded=$(sql "$db" -c "SELECT count(*) FROM payments WHERE checkout_request_id IS NOT NULL")
    wait_until 20 "the callbacks of the pushes that timed out" sql_true "$db" \
        "SELECT count(*) >= $((accepted - recorded)) FROM unmatched_callbacks" || true

    stats down --records "$records" --op push --phase down --expected 504
    stats gateway --records "$records" --op push --phase gateway --expected 502
    stats slow --records "$records" --op push --phase slow --expected 504
    stats probe --records "$records" --op probe --phase slow --expected 200
    stats back --records "$records" --op push --phase back --expected 202
    figure "$faulted orders pushed while Daraja misbehaved (4 more paid first, to warm up)"
    figure "down:    ${down_s504:-0} x 504, ${down_other:-0} other; latency p50 ${down_p50_ms:-?} ms, max ${down_max_ms:-?} ms"
    figure "gateway: ${gateway_s502:-0} x 502, ${gateway_other:-0} other; latency p50 ${gateway_p50_ms:-?} ms, max ${gateway_max_ms:-?} ms"
    figure "slow:    ${slow_s504:-0} x 504, ${slow_other:-0} other; latency min ${slow_min_ms:-?} ms, max ${slow_max_ms:-?} ms" \
        "(DARAJA_TIMEOUT_SECONDS=$DARAJA_TIMEOUT); meanwhile ${probe_n:-0} product listings, p50 ${probe_p50_ms:-?} ms, max ${probe_max_ms:-?} ms"
    figure "back:    ${back_s202:-0} x 202, ${back_other:-0} other; no payment pending $(seconds_between "$t_back" "$t_settled") s after Daraja came back"
    check "daraja: down: 504 for every push (${down_s504:-0} of $faulted)" $((${down_s504:-0} == faulted))
    check "daraja: gateway error: 502 for every push (${gateway_s502:-0} of $faulted)" $((${gateway_s502:-0} == faulted))
    check "daraja: slow: 504 for every push, after the timeout and not much later (${slow_s504:-0} of $faulted, ${slow_min_ms:-?}..${slow_max_ms:-?} ms)" \
        $((${slow_s504:-0} == faulted && ${slow_min_ms:-0} >= DARAJA_TIMEOUT * 1000 && ${slow_max_ms:-999999} <= DARAJA_TIMEOUT * 2000 + 1500))
    check "daraja: requests that need no Daraja stay fast while pushes wait for it (${probe_n:-0} listings, max ${probe_max_ms:-?} ms < $DARAJA_TIMEOUT s, ${probe_other:-?} failed)" \
        $((${probe_n:-0} > 0 && ${probe_other:-1} == 0 && ${probe_max_ms:-999999} < DARAJA_TIMEOUT * 1000))

    local no_answer refused placed
    read -r no_answer refused placed < <(sql "$db" -c "
        SELECT count(*) FILTER (WHERE status = 'failed' AND result_desc = 'no answer'),
               count(*) FILTER (WHERE status = 'failed' AND result_desc IS DISTINCT FROM 'no answer'),
               (SELECT count(*) FROM order_states WHERE order_id IN ($fault_ids) AND status = 'placed')
        FROM payments WHERE order_id IN ($fault_ids)")
    check "daraja: every failed push is stored failed ($no_answer 'no answer', $refused refused, of $((faulted * 3)) pushes)" \
        $((no_answer == faulted * 2 && refused == faulted))
    check "daraja: the orders stayed payable: the next push succeeded (${back_s202:-0} x 202) and every order is paid ($placed of $faulted placed)" \
        $((${back_s202:-0} == faulted && placed == faulted))
    local pending twice reconciled unmatched
    read -r pending twice reconciled unmatched < <(sql "$db" -c "
        SELECT (SELECT count(*) FROM payments WHERE status = 'pending'),
               (SELECT count(*) FROM (SELECT sub_order_id FROM sub_order_events WHERE from_status = 'awaiting_payment'
                                      AND to_status = 'placed' GROUP BY 1 HAVING count(*) > 1) AS released_twice),
               (SELECT count(*) FROM payments WHERE result_desc = 'Settled by STK query'),
               (SELECT count(*) FROM unmatched_callbacks)")
    check "daraja: no worker stuck: no payment left pending ($pending), none released twice ($twice), $reconciled settled by the reconciliation job" \
        $((pending == 0 && twice == 0 && reconciled > 0))
    check_jobs daraja "$db"
    check "daraja: the callbacks of pushes that timed out at our end but reached M-Pesa are kept as unmatched money for an admin ($unmatched of $((accepted - recorded)))" \
        $((unmatched == accepted - recorded && unmatched > 0))
    figure "note: those $unmatched customers were charged twice (the push that timed out went through at M-Pesa, then the retry);" \
        "SPEC section 6 keeps that money for an admin to refund"
    stop_process daraja
    stop_process daraja-proxy
    stop_process daraja-sim
}

scenario_two() {
    printf '\n== two: two service instances on one database under load\n'
    local db=faults_two port_a port_b records=$WORK/two.jsonl
    clone "$db"
    pick_port port_a 18400
    pick_port port_b 18410
    # Limits small enough to reach; the window (an hour) is long so that no check straddles two.
    local limits=(AUTH_RATE_LIMIT_PER_EMAIL=10 AUTH_RATE_LIMIT_PER_IP=20)
    start_service two-a "$port_a" "$db" "${limits[@]}"
    start_service two-b "$port_b" "$db" "${limits[@]}"
    local bases="http://127.0.0.1:$port_a,http://127.0.0.1:$port_b"
    start_process two-load "${LOAD_PY[@]}" checkout --bases "$bases" --customers "$WORK/customers-load.txt" \
        --products "$WORK/products.txt" --threads "$LOAD_CUSTOMERS" --duration 20 --drain 10 --out "$records"

    # Expiry: unpaid M-Pesa orders made through both instances, then aged past the expiry.
    load orders --bases "$bases" --customers "$WORK/customers-pay.txt" --products "$WORK/products.txt" \
        --method mpesa --out "$records" --orders-out "$WORK/two-orders.json"
    local unpaid unpaid_ids
    unpaid=$(jq length "$WORK/two-orders.json")
    unpaid_ids=$(quoted_ids "$WORK/two-orders.json")
    sql "$db" -c "UPDATE orders SET created_at = created_at - interval '2 hours' WHERE id IN ($unpaid_ids)"
    # One-off jobs for the four workers of both instances to race for: each must be claimed once.
    sql "$db" -c "INSERT INTO jobs (kind, payload, run_at) SELECT 'expire-unpaid-orders', '{}', now() FROM generate_series(1, 300)"

    # Rate limits: one email tried from 30 addresses, one address trying 40 emails, over both.
    load logins --bases "$bases" --count 30 --email customer.juma@hubroute.test --phase per-email --out "$records"
    load logins --bases "$bases" --count 40 --ip 203.0.113.9 --phase per-ip --out "$records"
    # A hot product (stock 25) that 60 customers check out at once, half through each instance.
    load hot --bases "$bases" --customers "$WORK/customers-hot.txt" --product "$HOT_PRODUCT" --phase hot --out "$records"

    wait_until 30 "the unpaid orders to expire" sql_true "$db" \
        "SELECT bool_and(status = 'cancelled') FROM sub_orders WHERE order_id IN ($unpaid_ids)" || true
    wait_until 30 "the one-off jobs to finish" sql_true "$db" \
        "SELECT count(*) = 0 FROM jobs WHERE repeat_seconds IS NULL AND finished_at IS NULL AND failed_at IS NULL" || true
    finish_load two-load

    load_figure "$records" "$LOAD_CUSTOMERS"
    stats a --records "$records" --op checkout --base 0
    stats b --records "$records" --op checkout --base 1
    stats every --records "$records"
    stats email --records "$records" --op login --phase per-email
    stats ip --records "$records" --op login --phase per-ip
    stats hot --records "$records" --op checkout --phase hot
    local expired_a expired_b
    expired_a=$(expired_in "$WORK/two-a.log")
    expired_b=$(expired_in "$WORK/two-b.log")
    figure "checkouts answered by instance A: ${a_n:-0}, by instance B: ${b_n:-0}"

    local once more unfinished periodic
    read -r once more unfinished periodic < <(sql "$db" -c "
        SELECT count(*) FILTER (WHERE attempts = 1 AND finished_at IS NOT NULL),
               count(*) FILTER (WHERE attempts > 1),
               count(*) FILTER (WHERE finished_at IS NULL),
               (SELECT count(*) FROM jobs WHERE unique_key = 'expire-unpaid-orders' AND finished_at IS NULL AND failed_at IS NULL)
        FROM jobs WHERE kind = 'expire-unpaid-orders' AND repeat_seconds IS NULL")
    local parcels expired right
    read -r parcels expired right < <(sql "$db" -c "
        SELECT count(*),
               count(*) FILTER (WHERE s.status = 'cancelled' AND s.cancel_reason = 'payment_expired'),
               count(*) FILTER (WHERE (SELECT count(*) FROM sub_order_events e WHERE e.sub_order_id = s.id AND e.to_status = 'cancelled') = 1
                                  AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.sub_order_id = s.id AND i.restocked_quantity <> i.quantity))
        FROM sub_orders s WHERE s.order_id IN ($unpaid_ids)")
    figure "expiry: $unpaid unpaid orders ($parcels sub-orders) aged past PAYMENT_EXPIRY_MINUTES; sub-orders expired by instance A: $expired_a, by B: $expired_b"
    check "two: 300 one-off jobs each ran exactly once ($once once, $more more than once, $unfinished unfinished)" \
        $((once == 300 && more == 0 && unfinished == 0))
    check "two: one periodic expiry job for both instances ($periodic)" $((periodic == 1))
    check "two: each unpaid sub-order expired exactly once: one cancelled event, its stock back once ($expired expired, $right right, of $parcels)" \
        $((parcels > 0 && expired == parcels && right == parcels))
    check_jobs two "$db"
    check "two: per-email login limit held across both instances: 10 of 30 attempts let through (${email_s401:-0} x 401, ${email_s429:-0} x 429)" \
        $((${email_s401:-0} == 10 && ${email_s429:-0} == 20))
    check "two: per-address login limit held across both instances: 20 of 40 attempts let through (${ip_s401:-0} x 401, ${ip_s429:-0} x 429)" \
        $((${ip_s401:-0} == 20 && ${ip_s429:-0} == 20))
    local hot_stock hot_sold
    read -r hot_stock hot_sold < <(sql "$db" -c "
        SELECT p.stock, (SELECT coalesce(sum(quantity - restocked_quantity), 0) FROM order_items WHERE product_id = p.id)
        FROM products p WHERE p.id = '$HOT_PRODUCT'")
    check "two: no oversell: 60 customers, 25 in stock (${hot_s201:-0} x 201, ${hot_s409:-0} x 409; stock now $hot_stock, $hot_sold sold)" \
        $((${hot_s201:-0} == 25 && ${hot_s409:-0} == 35 && hot_stock == 0 && hot_sold == 25))
    check "two: no 500 and no request left without an answer (${every_s500:-0} x 500, ${every_s0:-0} unanswered)" \
        $((${every_s500:-0} == 0 && ${every_s0:-0} == 0))
    check_orders two "$db" "$records"
    check_stock two "$db"
    stop_process two-a
    stop_process two-b
}

# expired_in LOG: sub-orders an instance's expiry jobs cancelled, from its log lines.
expired_in() { awk '/expired unpaid sub-orders/ && match($0, /count=[0-9]+/) { s += substr($0, RSTART + 6, RLENGTH - 6) } END { print s + 0 }' "$1"; }

# MARK: main

ensure_system_packages
build
start_database
make_template
for scenario in "${SCENARIOS[@]}"; do
    "scenario_$scenario"
done
printf '\nfaults: %d passed, %d failed (%d s)\n' "$PASSED" "$FAILED" "$((SECONDS - STARTED_AT))"
[ "$FAILED" -eq 0 ]
