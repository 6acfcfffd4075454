#!/usr/bin/env bash
# HubRoute's benchmarks (SPEC section 16). Each run builds release, starts a PostgreSQL cluster
# and the service of its own, seeds in bulk, measures, writes bench-results/<kind>-<time>.json
# (with a folder of the same name holding every raw figure, the pgbench script, plans, logs)
# and stops everything it started.
#
#   scripts/bench.sh checkout        closed loop at 1, 8 (the pool) and 32 clients, the pgbench
#                                    ceiling, open loop at half the maximum, the hot product
#   scripts/bench.sh hot             only the hot product: 200 buyers at once, stock 50
#   scripts/bench.sh catalog         listing over 100,000 products: latency per query, plans
#   scripts/bench.sh profile         perf record of the service under the checkout load (8 clients)
#   scripts/bench.sh analytics       100,000 generated orders: analytics endpoints (a month, the year),
#                                    view refresh times, order reads; latency per path, plans
#   scripts/bench.sh floor           what the stack costs before HubRoute's code: Hummingbird and
#                                    PostgresClient alone (hubroute-stack-floor) beside the service,
#                                    service CPU per request and per statement
#   scripts/bench.sh compare A.json B.json
#
# Settings (environment): BENCH_DURATION (s per closed-loop run and pgbench, 30),
# BENCH_OPEN_DURATION (40), BENCH_WARMUP (10), BENCH_POOL_SIZE (8), BENCH_CATALOG_PRODUCTS
# (100000), BENCH_CATALOG_CLIENTS (2), BENCH_CATALOG_DURATION (s per query, 5),
# BENCH_ANALYTICS_ORDERS (100000), BENCH_ANALYTICS_SEED (1), BENCH_ANALYTICS_DURATION (s per path, 5),
# BENCH_FLOOR_CLIENTS (8), BENCH_FLOOR_DURATION (s per path, 6).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
source scripts/lib/bench.sh

DURATION=${BENCH_DURATION:-30}
OPEN_DURATION=${BENCH_OPEN_DURATION:-40}
WARMUP=${BENCH_WARMUP:-10}
# Bench customers 0..299 shop (closed loop: the first N; open loop: a pool of all 300),
# 300..499 are the hot product's buyers, 500 is the traced customer.
SHOPPERS=300
HOT_FIRST=300
HOT_BUYERS=200
TRACED=500
HOT_PRODUCT=00000009-0000-4000-9000-000000000001

usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

setup_checkout() {
    bench_build
    bench_start_postgres
    log "seeding $((TRACED + 1)) customers with addresses, 3 merchants, $((3 * (TRACED + 1))) products (bulk SQL)"
    bench_psql -v merchants=3 -f scripts/bench/seed-common.sql >/dev/null
    bench_psql -v customers=$((TRACED + 1)) -f scripts/bench/seed-checkout.sql >/dev/null
    bench_start_service
    bench_share_password_hash >/dev/null
    log "logging every bench customer in once"
    $BENCH_TOOL customers --db "$BENCH_DB_URL" --base-url "$BENCH_URL" --password "$BENCH_PASSWORD" \
        --out "$BENCH_RUN_DIR/customers.json"
}

# The statements of one customer's 3 cart adds and checkout, as PostgreSQL received them,
# turned into the pgbench script of the ceiling.
trace_customer() {
    log "tracing one customer's statements (log_statement=all)"
    bench_set log_statement all
    bench_marker trace-start
    bench_load closed --customers "$BENCH_RUN_DIR/customers.json" --first "$TRACED" --clients 1 --flows 1 \
        --out "$BENCH_RUN_DIR/trace.json" --label trace
    bench_marker trace-end
    bench_set log_statement none
    cp "$BENCH_LOG" "$BENCH_RUN_DIR/trace.csv"
    $BENCH_TOOL pgbench-script --db "$BENCH_DB_URL" --database "$BENCH_DB" --log "$BENCH_RUN_DIR/trace.csv" \
        --start trace-start --end trace-end --traced "$TRACED" --out "$BENCH_RUN_DIR/checkout.pgbench" \
        --defines "$BENCH_RUN_DIR/pgbench-defines.json" --summary "$BENCH_RUN_DIR/pgbench-summary.json"
    python3 - "$BENCH_RUN_DIR/trace.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
if t["errors"] or t.get("checkouts") != 1:
    sys.exit(f"the traced customer did not check out cleanly: {t['error_kinds']}")
EOF
}

closed_run() {
    local clients=$1 name=$2
    log "closed loop: $clients clients for ${DURATION}s"
    bench_measure "$BENCH_RUN_DIR/$name.json" "$BENCH_RUN_DIR/$name.raw.json" -- \
        "$BENCH_BIN/hubroute-load" closed --base-url "$BENCH_URL" --customers "$BENCH_RUN_DIR/customers.json" \
        --clients "$clients" --duration "$DURATION" --out "$BENCH_RUN_DIR/$name.raw.json" --label "$name"
}

hot_product() {
    log "hot product: $HOT_BUYERS buyers at once, stock 50"
    bench_psql >/dev/null <<EOF
UPDATE products SET stock = 50 WHERE id = '$HOT_PRODUCT';
DELETE FROM cart_items WHERE user_id IN (SELECT user_id FROM bench_customers WHERE n >= $HOT_FIRST AND n < $((HOT_FIRST + HOT_BUYERS)));
INSERT INTO cart_items (user_id, product_id, quantity)
SELECT user_id, '$HOT_PRODUCT', 1 FROM bench_customers WHERE n >= $HOT_FIRST AND n < $((HOT_FIRST + HOT_BUYERS));
EOF
    bench_measure "$BENCH_RUN_DIR/hot.json" "$BENCH_RUN_DIR/hot.raw.json" -- \
        "$BENCH_BIN/hubroute-load" burst --base-url "$BENCH_URL" --customers "$BENCH_RUN_DIR/customers.json" \
        --first "$HOT_FIRST" --count "$HOT_BUYERS" --out "$BENCH_RUN_DIR/hot.raw.json" --label hot
}

# Invariants after the runs: no stock below zero, every unit of stock accounted for by order
# items (no oversell), the hot product sold exactly its stock, no deadlock.
write_checks() {
    bench_psql -At > "$BENCH_RUN_DIR/checks.json" <<EOF
SELECT json_build_object(
    'negative_stock', (SELECT count(*) FROM products WHERE stock < 0),
    'oversold_products', (SELECT count(*) FROM products p
                          LEFT JOIN (SELECT product_id, sum(quantity) AS sold FROM order_items GROUP BY product_id) s
                                 ON s.product_id = p.id
                          WHERE p.name LIKE 'Bench product %' AND p.stock + coalesce(s.sold, 0) <> 1000000),
    'hot_sold', (SELECT coalesce(sum(quantity), 0) FROM order_items WHERE product_id = '$HOT_PRODUCT'),
    'hot_stock_left', (SELECT stock FROM products WHERE id = '$HOT_PRODUCT'),
    'orders', (SELECT count(*) FROM orders),
    'deadlocks_total', (SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()),
    'service_error_log_lines', $(grep -c '"level":"error"\|\[ error \]\| error ' "$BENCH_RUN_DIR/service.log" || true)
)
EOF
}

cmd_checkout() {
    bench_init checkout
    setup_checkout
    trace_customer
    log "warm-up: 8 clients for ${WARMUP}s"
    bench_load closed --customers "$BENCH_RUN_DIR/customers.json" --clients 8 --duration "$WARMUP" \
        --out "$BENCH_RUN_DIR/warmup.json" --label warmup
    # Each database call leaves a cancelled 5 s timeout timer that still fires later
    # (Database.limited); wait them out so this measures the idle service.
    log "the idle service's CPU for 5s (after 6s of quiet)"
    sleep 6
    bench_measure "$BENCH_RUN_DIR/idle.json" "$BENCH_RUN_DIR/none" -- sleep 5
    closed_run 1 closed-1
    closed_run "$BENCH_POOL_SIZE" "closed-$BENCH_POOL_SIZE"
    [ "$BENCH_POOL_SIZE" = 8 ] || closed_run 8 closed-8
    closed_run 32 closed-32
    log "ceiling: the traced statements replayed by pgbench, $BENCH_POOL_SIZE connections, ${DURATION}s"
    $BENCH_TOOL ceiling --db "$BENCH_DB_URL" --database "$BENCH_DB" --pgdata "$BENCH_PG_DIR/data" \
        --service-pid "$BENCH_SERVICE_PID" --pgbench "$(pg_bin)/pgbench" --script "$BENCH_RUN_DIR/checkout.pgbench" \
        --defines "$BENCH_RUN_DIR/pgbench-defines.json" --clients "$BENCH_POOL_SIZE" --threads 2 \
        --duration "$DURATION" --out "$BENCH_RUN_DIR/ceiling.json"
    local rate
    rate=$(python3 -c "
import json, sys
m = max(json.load(open(f'$BENCH_RUN_DIR/closed-{c}.json'))['checkouts_per_s'] for c in (8, 32))
print(round(m / 2, 1))")
    log "open loop: $rate checkouts/s (half the closed-loop maximum) for ${OPEN_DURATION}s"
    bench_measure "$BENCH_RUN_DIR/open.json" "$BENCH_RUN_DIR/open.raw.json" -- \
        "$BENCH_BIN/hubroute-load" open --base-url "$BENCH_URL" --customers "$BENCH_RUN_DIR/customers.json" \
        --first 0 --count "$SHOPPERS" --rate "$rate" --duration "$OPEN_DURATION" --out "$BENCH_RUN_DIR/open.raw.json" --label open
    hot_product
    write_checks
    $BENCH_TOOL checkout-report --dir "$BENCH_RUN_DIR" --out "$BENCH_OUT" --git "$BENCH_GIT" --pool "$BENCH_POOL_SIZE"
    log "figures: $BENCH_OUT"
}

cmd_hot() {
    bench_init hot
    setup_checkout
    hot_product
    write_checks
    python3 - "$BENCH_RUN_DIR" "$BENCH_OUT" <<'EOF'
import json, os, sys
d, out = sys.argv[1], sys.argv[2]
hot, checks = json.load(open(os.path.join(d, "hot.json"))), json.load(open(os.path.join(d, "checks.json")))
kinds = hot.get("error_kinds", {})
result = {"kind": "hot", "buyers": hot["buyers"], "sold": checks["hot_sold"], "stock_left": checks["hot_stock_left"],
          "created_201": hot["statuses"]["checkout"].get("201", 0), "out_of_stock_409": kinds.get("checkout 409 out_of_stock", 0),
          "other_errors": hot["errors"] - kinds.get("checkout 409 out_of_stock", 0), "burst_ms": hot["burst_ms"],
          "checkout_latency_ms": hot["requests"]["checkout"], "checks": checks}
json.dump(result, open(out, "w"), indent=2, sort_keys=True)
print(json.dumps(result, indent=2, sort_keys=True))
EOF
}

cmd_catalog() {
    local products=${BENCH_CATALOG_PRODUCTS:-100000}
    bench_init catalog
    bench_build
    bench_start_postgres
    log "seeding $products products in bulk (20 merchants, 32 leaf categories)"
    bench_psql -v merchants=20 -f scripts/bench/seed-common.sql >/dev/null
    bench_psql -v merchants=20 -v products="$products" -f scripts/bench/seed-catalog.sql >/dev/null
    bench_start_service
    log "finding deep pages (following 50 cursors per query)"
    $BENCH_TOOL catalog-paths --base-url "$BENCH_URL" --depth 50 --out "$BENCH_RUN_DIR/paths.json"
    log "plans: one request per query under auto_explain (ANALYZE, BUFFERS)"
    explain_paths "$BENCH_RUN_DIR/paths.json" products
    log "latency: ${BENCH_CATALOG_CLIENTS:-2} clients, ${BENCH_CATALOG_DURATION:-5}s per query"
    bench_load get --paths "$BENCH_RUN_DIR/paths.json" --clients 2 --duration 1 --out "$BENCH_RUN_DIR/catalog-warmup.json"
    bench_measure "$BENCH_RUN_DIR/catalog-load.json" "$BENCH_RUN_DIR/catalog-load.raw.json" -- \
        "$BENCH_BIN/hubroute-load" get --base-url "$BENCH_URL" --paths "$BENCH_RUN_DIR/paths.json" \
        --clients "${BENCH_CATALOG_CLIENTS:-2}" --duration "${BENCH_CATALOG_DURATION:-5}" --out "$BENCH_RUN_DIR/catalog-load.raw.json"
    $BENCH_TOOL catalog-report --dir "$BENCH_RUN_DIR" --out "$BENCH_OUT" --git "$BENCH_GIT" --products "$products"
    log "figures: $BENCH_OUT"
}

cmd_profile() {
    local seconds=${BENCH_PROFILE_SECONDS:-30}
    if ! command -v perf >/dev/null; then
        log "installing linux-perf"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf
    fi
    bench_init profile
    setup_checkout
    bench_load closed --customers "$BENCH_RUN_DIR/customers.json" --clients 8 --duration "$WARMUP" \
        --out "$BENCH_RUN_DIR/warmup.json" --label warmup
    log "perf record -F 499 -g of the service for ${seconds}s under 8 clients"
    perf record -F 499 -g -p "$BENCH_SERVICE_PID" -o "$BENCH_RUN_DIR/perf.data" -- sleep "$seconds" \
        2> "$BENCH_RUN_DIR/perf-record.log" &
    local recorder=$!
    bench_measure "$BENCH_RUN_DIR/profile-load.json" "$BENCH_RUN_DIR/profile-load.raw.json" -- \
        "$BENCH_BIN/hubroute-load" closed --base-url "$BENCH_URL" --customers "$BENCH_RUN_DIR/customers.json" \
        --clients 8 --duration "$seconds" --out "$BENCH_RUN_DIR/profile-load.raw.json" --label profile
    wait "$recorder" || true
    local demangle="cat"
    command -v swift-demangle >/dev/null && demangle="swift-demangle --simplified"
    perf report -i "$BENCH_RUN_DIR/perf.data" --no-children --sort dso,symbol -g none --stdio --percent-limit 0.3 2>/dev/null \
        | $demangle > "$BENCH_RUN_DIR/profile-self.txt"
    perf report -i "$BENCH_RUN_DIR/perf.data" --children --sort symbol --stdio -g none --percent-limit 1 2>/dev/null \
        | $demangle > "$BENCH_RUN_DIR/profile-children.txt"
    perf report -i "$BENCH_RUN_DIR/perf.data" --no-children --sort dso --stdio 2>/dev/null > "$BENCH_RUN_DIR/profile-dso.txt"
    log "perf record of the idle service for 10s"
    sleep 2
    perf record -F 499 -g -p "$BENCH_SERVICE_PID" -o "$BENCH_RUN_DIR/perf-idle.data" -- sleep 10 2>/dev/null
    perf report -i "$BENCH_RUN_DIR/perf-idle.data" --children --sort symbol --stdio -g none --percent-limit 2 2>/dev/null \
        | $demangle > "$BENCH_RUN_DIR/profile-idle.txt"
    cp "$BENCH_RUN_DIR/profile-load.json" "$BENCH_OUT"
    log "profile: $BENCH_RUN_DIR/profile-self.txt, profile-children.txt, profile-dso.txt"
    grep -v '^#' "$BENCH_RUN_DIR/profile-self.txt" | grep -v '^$' | head -25
}

# A hubroute command on the bench database, from the run folder (no .env of the work tree).
bench_hubroute() {
    (cd "$BENCH_RUN_DIR" && env APP_ENV=development DATABASE_URL="$BENCH_DB_URL" DATABASE_TIMEOUT_SECONDS=300 "$BENCH_BIN/hubroute" "$@")
}

# One request per path between markers, under auto_explain (ANALYZE, BUFFERS): the plan of every
# statement the service ran, a Seq Scan on a table matching $2 flagged.
explain_paths() {
    local paths=$1 tables=$2
    bench_psql -c "ALTER SYSTEM SET auto_explain.log_analyze = on" -c "ALTER SYSTEM SET auto_explain.log_buffers = on" >/dev/null
    bench_set auto_explain.log_min_duration 0
    local name path token accept
    # Fields apart by the unit separator: a tab is whitespace to read, so empty fields would merge.
    while IFS=$'\x1f' read -r name path token accept; do
        bench_marker "explain $name"
        curl -fs -o /dev/null ${token:+-H "Authorization: Bearer $token"} ${accept:+-H "Accept: $accept"} "$BENCH_URL$path"
        bench_marker "explain-end $name"
    done < <(python3 -c "
import json
for p in json.load(open('$paths')): print('\x1f'.join([p['name'], p['path'], p.get('token', ''), p.get('accept', '')]))")
    bench_set auto_explain.log_min_duration -1
    cp "$BENCH_LOG" "$BENCH_RUN_DIR/explain.csv"
    $BENCH_TOOL explain --log "$BENCH_RUN_DIR/explain.csv" --paths "$paths" --tables "$tables" \
        --out "$BENCH_RUN_DIR/plans.txt" --details "$BENCH_RUN_DIR/plan-details.json" > "$BENCH_RUN_DIR/seqscan.json"
}

cmd_analytics() {
    local orders=${BENCH_ANALYTICS_ORDERS:-100000}
    bench_init analytics
    bench_build
    bench_start_postgres
    log "seeding $orders orders (hubroute seed-volume, seed ${BENCH_ANALYTICS_SEED:-1})"
    local started seeded
    started=$(date +%s.%N)
    bench_hubroute seed-volume --orders "$orders" --seed "${BENCH_ANALYTICS_SEED:-1}" > "$BENCH_RUN_DIR/seed.txt"
    seeded=$(python3 -c "print(round($(date +%s.%N) - $started, 1))")
    cat "$BENCH_RUN_DIR/seed.txt"
    log "audit-money on the generated marketplace"
    local audit=balanced
    bench_hubroute audit-money > "$BENCH_RUN_DIR/audit.txt" || audit="discrepancies (see audit.txt)"
    tail -1 "$BENCH_RUN_DIR/audit.txt"
    log "refresh-analytics: the first refresh after seeding, then a steady one"
    bench_hubroute refresh-analytics > "$BENCH_RUN_DIR/refresh-first.txt"
    bench_hubroute refresh-analytics > "$BENCH_RUN_DIR/refresh.txt"
    cat "$BENCH_RUN_DIR/refresh.txt"
    bench_psql -c "VACUUM ANALYZE" >/dev/null
    bench_start_service
    log "signing in an admin, the busiest merchant and the customer with most orders; the paths"
    $BENCH_TOOL analytics-paths --db "$BENCH_DB_URL" --base-url "$BENCH_URL" --password "$BENCH_PASSWORD" \
        --out "$BENCH_RUN_DIR/paths.json" --ranges "$BENCH_RUN_DIR/ranges.json"
    log "plans: one request per path under auto_explain (ANALYZE, BUFFERS)"
    explain_paths "$BENCH_RUN_DIR/paths.json" \
        'orders|sub_orders|order_items|sub_order_events|payments|payment_allocations|refunds|refund_items|refund_events|cod_collections|delivery_attempts|remittances|reviews'
    log "latency: 2 clients, ${BENCH_ANALYTICS_DURATION:-5}s per path"
    bench_load get --paths "$BENCH_RUN_DIR/paths.json" --clients 2 --duration 1 --out "$BENCH_RUN_DIR/analytics-warmup.json"
    bench_measure "$BENCH_RUN_DIR/analytics-load.json" "$BENCH_RUN_DIR/analytics-load.raw.json" -- \
        "$BENCH_BIN/hubroute-load" get --base-url "$BENCH_URL" --paths "$BENCH_RUN_DIR/paths.json" \
        --clients 2 --duration "${BENCH_ANALYTICS_DURATION:-5}" --out "$BENCH_RUN_DIR/analytics-load.raw.json"
    python3 - "$BENCH_RUN_DIR" "$orders" "$seeded" "$audit" <<'EOF'
import json, os, re, sys
d, orders, seeded, audit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def times(name):
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+): (\d+) ms$", open(os.path.join(d, name)).read(), re.M)}
rows = {m[0]: int(m[1]) for m in re.findall(r"^(\w+): (\d+)$", open(os.path.join(d, "seed.txt")).read(), re.M)}
json.dump({"orders": orders, "seed_s": seeded, "audit": audit, "rows": rows, "refresh_ms": times("refresh.txt"),
           "first_refresh_ms": times("refresh-first.txt"), "ranges": json.load(open(os.path.join(d, "ranges.json")))},
          open(os.path.join(d, "setup.json"), "w"), indent=2)
EOF
    $BENCH_TOOL analytics-report --dir "$BENCH_RUN_DIR" --out "$BENCH_OUT" --git "$BENCH_GIT"
    log "figures: $BENCH_OUT"
}

# Each path alone, closed loop; CPU per request of the process that answers it, from /proc.
cmd_floor() {
    local clients=${BENCH_FLOOR_CLIENTS:-8} seconds=${BENCH_FLOOR_DURATION:-6}
    bench_init floor
    bench_build
    swift build -c release --product hubroute-stack-floor
    bench_start_postgres
    log "seeding 3 merchants and 8 customers with their products (bulk SQL)"
    bench_psql -v merchants=3 -f scripts/bench/seed-common.sql >/dev/null
    bench_psql -v customers=8 -f scripts/bench/seed-checkout.sql >/dev/null
    bench_start_service
    bench_share_password_hash >/dev/null
    $BENCH_TOOL customers --db "$BENCH_DB_URL" --base-url "$BENCH_URL" --password "$BENCH_PASSWORD" \
        --out "$BENCH_RUN_DIR/customers.json"
    local floor_port=$((BENCH_HTTP_PORT + 1))
    while port_busy "$floor_port"; do floor_port=$((floor_port + 1)); done
    log "starting hubroute-stack-floor on 127.0.0.1:$floor_port"
    env PORT="$floor_port" DATABASE_URL="$BENCH_DB_URL" DATABASE_POOL_SIZE="$BENCH_POOL_SIZE" \
        "$BENCH_BIN/hubroute-stack-floor" >"$BENCH_RUN_DIR/stack-floor.log" 2>&1 &
    local floor_pid=$! tries=0
    BENCH_OTHER_PIDS="$BENCH_OTHER_PIDS $floor_pid"
    until curl -fs "http://127.0.0.1:$floor_port/plain" >/dev/null 2>&1; do
        tries=$((tries + 1))
        [ "$tries" -lt 60 ] || { log "hubroute-stack-floor did not answer; see $BENCH_RUN_DIR/stack-floor.log"; return 1; }
        sleep 0.5
    done
    local token
    token=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["token"])' "$BENCH_RUN_DIR/customers.json")
    # name, base URL, path, the answering process, a customer's token or "-".
    local name base path pid bearer
    while read -r name base path pid bearer; do
        log "$name: $clients clients for ${seconds}s"
        python3 -c 'import json, sys; t = {"name": sys.argv[1], "path": sys.argv[2]}
if sys.argv[3] != "-": t["token"] = sys.argv[3]
json.dump([t], open(sys.argv[4], "w"))' "$name" "$path" "$bearer" "$BENCH_RUN_DIR/$name.paths.json"
        "$BENCH_BIN/hubroute-load" get --base-url "$base" --paths "$BENCH_RUN_DIR/$name.paths.json" --clients "$clients" \
            --duration 1 --out "$BENCH_RUN_DIR/$name.warmup.json"
        BENCH_MEASURED_PID=$pid bench_measure "$BENCH_RUN_DIR/$name.json" "$BENCH_RUN_DIR/$name.raw.json" -- \
            "$BENCH_BIN/hubroute-load" get --base-url "$base" --paths "$BENCH_RUN_DIR/$name.paths.json" --clients "$clients" \
            --duration "$seconds" --out "$BENCH_RUN_DIR/$name.raw.json"
    done <<EOF_PATHS
stack.plain http://127.0.0.1:$floor_port /plain $floor_pid -
stack.select http://127.0.0.1:$floor_port /select $floor_pid -
service.health $BENCH_URL /health $BENCH_SERVICE_PID -
service.products $BENCH_URL /api/v1/products?limit=1 $BENCH_SERVICE_PID -
service.cart $BENCH_URL /api/v1/cart $BENCH_SERVICE_PID $token
EOF_PATHS
    $BENCH_TOOL floor-report --dir "$BENCH_RUN_DIR" --out "$BENCH_OUT" --git "$BENCH_GIT" --clients "$clients"
    log "figures: $BENCH_OUT"
}

case "${1:-}" in
    checkout) cmd_checkout ;;
    hot) cmd_hot ;;
    catalog) cmd_catalog ;;
    profile) cmd_profile ;;
    analytics) cmd_analytics ;;
    floor) cmd_floor ;;
    compare)
        [ $# = 3 ] || usage 2
        python3 scripts/bench/benchtool.py compare "$2" "$3"
        ;;
    -h | --help | help) usage ;;
    *) usage 2 ;;
esac
