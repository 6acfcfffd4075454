#!/usr/bin/env python3
"""The data side of scripts/bench.sh (standard library only).

  customers     log every bench customer in once and write the load generator's customers file
  measure       run a command and record the service's and PostgreSQL's CPU, peak RSS, deadlocks
  pgbench-script  turn the statements PostgreSQL logged for one traced customer into a pgbench script
  ceiling       run pgbench with that script under `measure`
  catalog-paths the catalog's query paths, deep cursors found by following 50 pages
  explain       EXPLAIN (ANALYZE, BUFFERS) plans from auto_explain's log, Seq Scans on the watched tables flagged
  analytics-paths  the analytics and order-read paths over the generated marketplace, with their callers' tokens
  checkout-report / catalog-report / analytics-report / floor-report  assemble a run's JSON and print its summary
  compare       two result files side by side
"""
import argparse
import concurrent.futures
import csv
import datetime
import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:?\d{2})?)?$")
INT_RE = re.compile(r"^-?\d+$")
csv.field_size_limit(1 << 30)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)


def psql(db_url, sql):
    """Rows of one statement as lists of strings (tab separated, unaligned)."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", db_url, "-c", sql],
        check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line != ""]


def http_json(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# ---------------------------------------------------------------- customers

def cmd_customers(args):
    rows = psql(args.db, "SELECT n, address_id, p1, p2, p3 FROM bench_customers ORDER BY n")

    def login(row):
        n, address, *products = row
        status, body = http_json("POST", args.base_url + "/api/v1/auth/login",
                                 {"email": f"bench-{n}@bench.hubroute.test", "password": args.password})
        if status != 200:
            raise SystemExit(f"login of bench customer {n} failed: {status} {body}")
        return {"n": int(n), "token": body["access_token"], "address_id": address, "products": products}

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        customers = list(pool.map(login, rows))
    with open(args.out, "w") as f:
        json.dump(customers, f)
    print(f"{len(customers)} customers logged in", file=sys.stderr)


# ---------------------------------------------------------------- measure

def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name: fields[0] is field 3 (the state)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def proc_cpu(pid, children_too=False):
    fields = proc_stat(pid)
    # utime, stime, cutime, cstime are fields 14-17.
    ticks = int(fields[11]) + int(fields[12])
    if children_too:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def proc_page_faults(pid, children_too=False):
    """Minor page faults (field 10; field 11 for ended children): memory the kernel handed the
    process afresh, page by page."""
    fields = proc_stat(pid)
    return int(fields[7]) + (int(fields[8]) if children_too else 0)


def postgres_total(postmaster, reading):
    """`reading` of the postmaster, its live children and (through its children's fields) its
    ended children."""
    total = reading(postmaster, children_too=True)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(proc_stat(entry)[1]) == postmaster:
                total += reading(int(entry))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            pass
    return total


def postgres_cpu(postmaster):
    return postgres_total(postmaster, proc_cpu)


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def context_switches(pid):
    """Voluntary and involuntary context switches of all the process's threads so far."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def pg_counters(db_url, database):
    row = psql(db_url, f"SELECT deadlocks, xact_commit, xact_rollback FROM pg_stat_database WHERE datname = '{database}'")[0]
    return {"deadlocks": int(row[0]), "commits": int(row[1]), "rollbacks": int(row[2])}


def machine_ticks():
    """(steal, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user and nice]
    return fields[7], sum(fields[:8])


def machine_gauge_ms():
    """Milliseconds of one fixed single-threaded loop: the machine's speed at that moment.

    This VM's speed drifts by more than the hypervisor's steal counter shows: on 2026-12-02 the
    same loop took from about 35 to about 140 ms within hours (steal under 0.1% throughout), and
    latencies of the same code moved by 1.5x. A rough guide: it is taken outside the load."""
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return round((time.perf_counter() - started) * 1000, 1)


def measure(args, command):
    postmaster = int(open(os.path.join(args.pgdata, "postmaster.pid")).readline())
    gauge_before = machine_gauge_ms()
    steal_before, total_before = machine_ticks()
    if args.service_pid:
        reset_hwm(args.service_pid)
    before = {"service": proc_cpu(args.service_pid) if args.service_pid else 0.0, "postgres": postgres_cpu(postmaster),
              "service_faults": proc_page_faults(args.service_pid) if args.service_pid else 0,
              "postgres_faults": postgres_total(postmaster, proc_page_faults),
              "switches": context_switches(args.service_pid) if args.service_pid else 0,
              "children": resource.getrusage(resource.RUSAGE_CHILDREN), "db": pg_counters(args.db, args.database)}
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.monotonic() - started
    time.sleep(1.0)  # let the statistics collector catch up
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    db = pg_counters(args.db, args.database)
    steal_after, total_after = machine_ticks()
    figures = {
        "wall_s": round(wall, 3),
        "machine_gauge_ms": [gauge_before, machine_gauge_ms()],
        # CPU time the hypervisor gave to other guests while this ran: the machine's noise, a
        # share of all its CPU time. Runs with a high figure measured the neighbours.
        "machine_steal_pct": round(100 * (steal_after - steal_before) / max(1, total_after - total_before), 2),
        "service_cpu_s": round((proc_cpu(args.service_pid) if args.service_pid else 0.0) - before["service"], 3),
        "postgres_cpu_s": round(postgres_cpu(postmaster) - before["postgres"], 3),
        # Pages the kernel handed out afresh: an allocator giving memory back and taking it again
        # shows here (README, "Deployment", glibc's allocator).
        "service_page_faults": (proc_page_faults(args.service_pid) - before["service_faults"]) if args.service_pid else None,
        "postgres_page_faults": postgres_total(postmaster, proc_page_faults) - before["postgres_faults"],
        "driver_cpu_s": round(children.ru_utime + children.ru_stime - before["children"].ru_utime - before["children"].ru_stime, 3),
        "service_peak_rss_mb": vm_hwm_mb(args.service_pid) if args.service_pid else None,
        "service_context_switches": (context_switches(args.service_pid) - before["switches"]) if args.service_pid else None,
        "deadlocks": db["deadlocks"] - before["db"]["deadlocks"],
        "db_commits": db["commits"] - before["db"]["commits"],
        "db_rollbacks": db["rollbacks"] - before["db"]["rollbacks"],
    }
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"command failed ({result.returncode}): {' '.join(command)}")
    return figures, result.stdout


def cmd_measure(args):
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    figures, _ = measure(args, command)
    loadgen = json.load(open(args.loadgen_out)) if args.loadgen_out and os.path.exists(args.loadgen_out) else {}
    loadgen["process"] = figures
    checkouts = loadgen.get("checkouts") or 0
    if checkouts:
        figures["service_cpu_ms_per_checkout"] = round(figures["service_cpu_s"] * 1000 / checkouts, 3)
        figures["postgres_cpu_ms_per_checkout"] = round(figures["postgres_cpu_s"] * 1000 / checkouts, 3)
        figures["loadgen_cpu_ms_per_checkout"] = round(loadgen.get("loadgen_cpu_s", 0) * 1000 / checkouts, 3)
        figures["service_context_switches_per_checkout"] = round(figures["service_context_switches"] / checkouts, 1)
    with open(args.out, "w") as f:
        json.dump(loadgen, f, indent=2, sort_keys=True)


# ---------------------------------------------------------------- the ceiling: pgbench script from the log

LOG_COLUMNS = ["log_time", "user_name", "database_name", "process_id", "connection_from", "session_id",
               "session_line_num", "command_tag", "session_start_time", "virtual_transaction_id", "transaction_id",
               "error_severity", "sql_state_code", "message", "detail", "hint", "internal_query", "internal_query_pos",
               "context", "query", "query_pos", "location", "application_name", "backend_type", "leader_pid", "query_id"]


def log_records(path, start_marker, end_marker):
    """The csvlog records between two `bench-marker` lines."""
    inside = False
    with open(path, newline="") as f:
        for row in csv.reader(f):
            record = dict(zip(LOG_COLUMNS, row))
            message = record.get("message", "")
            if message == f"bench-marker {start_marker}":
                inside = True
            elif message == f"bench-marker {end_marker}":
                return
            elif inside:
                yield record


PARAM_RE = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')")


def parse_parameters(detail):
    values = {}
    if detail.startswith("parameters: "):
        for match in PARAM_RE.finditer(detail):
            values[int(match.group(1))] = None if match.group(2) == "NULL" else match.group(3).replace("''", "'")
    return values


def parse_array(text):
    """Elements of a one-dimensional PostgreSQL array literal, or None."""
    if not (text.startswith("{") and text.endswith("}")):
        return None
    inner, elements, i = text[1:-1], [], 0
    if inner == "":
        return []
    while i < len(inner):
        if inner[i] == '"':
            j, value = i + 1, ""
            while inner[j] != '"':
                if inner[j] == "\\":
                    j += 1
                value += inner[j]
                j += 1
            elements.append(value)
            i = j + 2
        else:
            j = inner.find(",", i)
            j = len(inner) if j < 0 else j
            elements.append(inner[i:j])
            i = j + 1
    return elements


def infer_cast(value):
    if value is None:
        return ""
    if UUID_RE.match(value):
        return "uuid"
    if TIMESTAMP_RE.match(value):
        return "timestamptz"
    if INT_RE.match(value):
        return "int8"
    if value in ("t", "f"):
        return "bool"
    if value.startswith("\\x"):
        return "bytea"
    return "text"


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


class Mapper:
    """Turns the traced customer's parameter values into pgbench expressions: the customer's own
    rows become per-client variables, ids the app generated become fresh ids per checkout, the
    idempotency key a fresh number, everything else a constant passed with -D."""

    KEY = r"bench-[0-9a-f]{1,8}-[0-9]+-[0-9]+"

    def __init__(self, known, fresh):
        self.known = {v.lower(): name for v, name in known.items()}
        self.fresh = {}
        for value in fresh:
            self.fresh.setdefault(value.lower(), len(self.fresh) + 1)
        self.inside = re.compile("|".join([re.escape(v) for v in self.known] + [self.KEY]), re.IGNORECASE)
        self.constants = {}
        self.used = set()

    def constant(self, value):
        if value not in self.constants:
            self.constants[value] = f"c{len(self.constants) + 1}"
        return ":" + self.constants[value]

    def token(self, token):
        lower = token.lower()
        if lower in self.known:
            self.used.add(self.known[lower])
            return f"upper(:{self.known[lower]}::text)" if token != lower else f":{self.known[lower]}::text"
        self.used.add("key")
        return "('k' || :key::text)"

    def element(self, value):
        """A text-valued expression for one value, or None when it is a plain constant."""
        lower = value.lower()
        if lower in self.known or re.fullmatch(self.KEY, value):
            return self.token(value)
        if lower in self.fresh:
            self.used.add("seed")
            return f"md5(:seed::text || '-{self.fresh[lower]}')"
        if not self.inside.search(value):
            return None
        # A text holding a variable's value (the checkout's advisory-lock key): concatenate.
        pieces, last = [], 0
        for match in self.inside.finditer(value):
            if match.start() > last:
                pieces.append(sql_literal(value[last:match.start()]))
            pieces.append(self.token(match.group(0)))
            last = match.end()
        if last < len(value):
            pieces.append(sql_literal(value[last:]))
        return "(" + " || ".join(pieces) + ")"

    def expression(self, value, sql_casts_it):
        if value is None:
            return "NULL"
        elements = parse_array(value)
        if elements is not None:
            # Without a cast in the SQL, the array keeps the element type it was bound with.
            array_cast = "" if sql_casts_it else f"::{infer_cast(elements[0]) if elements else 'text'}[]"
            mapped = [self.element(e) for e in elements]
            if any(m is not None for m in mapped):
                items = [m if m is not None else sql_literal(e) for m, e in zip(mapped, elements)]
                return "(ARRAY[" + ", ".join(items) + "]::text[])" + array_cast
            return self.constant(value) + array_cast
        cast = infer_cast(value)
        mapped = self.element(value)
        if mapped is not None:
            return mapped if sql_casts_it or cast == "text" else f"({mapped})::{cast}"
        return self.constant(value) + ("" if sql_casts_it else f"::{cast}")


def substitute(sql, params, mapper):
    def replace(match):
        index = int(match.group(1))
        casts = sql[match.end():match.end() + 2] == "::"
        return mapper.expression(params.get(index), casts)
    # Placeholders are $1..$n outside string literals; the app's SQL binds every value.
    return re.sub(r"\$(\d+)(?!\d)", replace, sql)


def cmd_pgbench_script(args):
    known_row = psql(args.db, f"SELECT user_id, address_id, p1, p2, p3 FROM bench_customers WHERE n = {args.traced}")[0]
    known = dict(zip(known_row, ["uid", "addr", "p1", "p2", "p3"]))
    statements = []
    for record in log_records(args.log, args.start, args.end):
        if record["database_name"] != args.database:
            continue
        message = record["message"]
        match = re.match(r"^execute [^:]*: (.*)$", message, re.DOTALL)
        if not match:
            continue
        statements.append((record["process_id"], match.group(1), parse_parameters(record["detail"])))
    if not statements:
        raise SystemExit("no statements between the markers: was log_statement=all in force?")

    # Ids the traced requests generated: UUID values found in no table that existed before.
    candidates = set()
    for _, _, params in statements:
        for value in params.values():
            for v in (parse_array(value) or [value]) if value is not None else []:
                if UUID_RE.match(v) and v.lower() not in {k.lower() for k in known}:
                    candidates.add(v.lower())
    existing = set()
    if candidates:
        values = ",".join(f"('{c}'::uuid)" for c in sorted(candidates))
        existing = {r[0] for r in psql(args.db, f"""
            SELECT c.id FROM (VALUES {values}) AS c(id) WHERE EXISTS (
                SELECT 1 FROM users WHERE id = c.id UNION ALL SELECT 1 FROM addresses WHERE id = c.id
                UNION ALL SELECT 1 FROM zones WHERE id = c.id UNION ALL SELECT 1 FROM hubs WHERE id = c.id
                UNION ALL SELECT 1 FROM merchants WHERE id = c.id UNION ALL SELECT 1 FROM products WHERE id = c.id
                UNION ALL SELECT 1 FROM categories WHERE id = c.id)""")}
    mapper = Mapper(known, sorted(candidates - existing))

    body, transactions = [], 0
    for pid, sql, params in statements:
        if sql.strip().upper() == "BEGIN":
            transactions += 1
        body.append(substitute(sql.strip(), params, mapper) + ";")

    header = [
        f"-- Generated by scripts/bench/benchtool.py pgbench-script from the statements PostgreSQL logged",
        f"-- (log_statement=all) while bench customer {args.traced} added 3 products and checked out, through the",
        f"-- service. {len(statements)} statements, {transactions} transactions, one per line below, in order.",
        "-- Mapping: that customer's own ids -> per-client variables (uid, addr, p1..p3; one bench customer per",
        "-- pgbench client, read once); ids the app generated -> md5(seed || n)::uuid, fresh per checkout;",
        "-- the Idempotency-Key -> a fresh number; every other bound value -> a constant given with -D;",
        "-- each placeholder keeps the type it was bound with (casts), so statements, transactions and",
        "-- round trips are the service's.",
        "\\if :ready = 0",
        "\\set cn :client_id + :first",
        "SELECT user_id AS uid, address_id AS addr, p1, p2, p3 FROM bench_customers WHERE n = :cn::int \\gset",
        "\\set ready 1",
        "\\endif",
        "\\set seed random(1, 1000000000000000)",
        "\\set key random(1, 1000000000000000)",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(header + body) + "\n")
    defines = {"ready": "0", "first": "0"}
    for value, name in mapper.constants.items():
        defines[name] = value
    with open(args.defines, "w") as f:
        json.dump(defines, f, indent=1)
    summary = {"statements": len(statements), "transactions": transactions, "fresh_ids": len(mapper.fresh),
               "variables_used": sorted(mapper.used), "constants": len(mapper.constants),
               "connections_used_by_service": len({p for p, _, _ in statements})}
    with open(args.summary, "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary), file=sys.stderr)


def cmd_ceiling(args):
    defines = json.load(open(args.defines))
    defines["first"] = str(args.first)
    # Prepared, as the service runs every statement of the checkout path.
    command = [args.pgbench, "-n", "-M", "prepared", "-f", args.script, "-c", str(args.clients), "-j", str(args.threads),
               "-T", str(args.duration)]
    for name, value in defines.items():
        command += ["-D", f"{name}={value}"]
    command.append(args.db)
    os.environ["PGOPTIONS"] = "-c TimeZone=UTC -c statement_timeout=5000 -c lock_timeout=5000"
    figures, output = measure(args, command)
    with open(args.out + ".txt", "w") as f:
        f.write(output)
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", output).group(1))
    done = int(re.search(r"number of transactions actually processed: (\d+)", output).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    result = {"mode": "pgbench", "clients": args.clients, "threads": args.threads, "duration_s": args.duration,
              "checkouts": done, "checkouts_per_s": round(tps, 2), "failed": int(failed.group(1)) if failed else 0,
              "latency_avg_ms": float(latency.group(1)) if latency else None, "process": figures}
    figures["postgres_cpu_ms_per_checkout"] = round(figures["postgres_cpu_s"] * 1000 / max(done, 1), 3)
    figures["pgbench_cpu_ms_per_checkout"] = round(figures["driver_cpu_s"] * 1000 / max(done, 1), 3)
    write_json(args.out, result)
    print(f"pgbench: {tps:.1f} checkouts/s with {args.clients} connections", file=sys.stderr)


# ---------------------------------------------------------------- catalog

def cmd_catalog_paths(args):
    base = "/api/v1/products?limit=20"
    kinds = {
        "search": "&q=" + urllib.parse.quote("kettle"),
        "search_two_words": "&q=" + urllib.parse.quote("red kettle"),
        "category": "&category_id=00000000-0000-4000-8000-200000000100",
        "leaf_category": "&category_id=00000000-0000-4000-8000-200000000101",
        "price_range": "&min_price_cents=100000&max_price_cents=500000",
        "category_price_asc": "&category_id=00000000-0000-4000-8000-200000000100&sort=price_asc",
        "sort_newest": "&sort=newest",
        "sort_price_asc": "&sort=price_asc",
        "sort_price_desc": "&sort=price_desc",
        "sort_rating": "&sort=rating",
    }
    paths = []
    for name, query in kinds.items():
        path = base + query
        paths.append({"name": name + ".first", "path": path})
        cursor = None
        for _ in range(args.depth):
            status, body = http_json("GET", args.base_url + path + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
            if status != 200:
                raise SystemExit(f"{name}: {status} {body}")
            cursor = body.get("next_cursor")
            if not cursor:
                break
        if cursor:
            paths.append({"name": name + f".page{args.depth + 1}", "path": path + "&cursor=" + urllib.parse.quote(cursor)})
        else:
            print(f"{name}: fewer than {args.depth} pages, no deep page", file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(paths, f, indent=1)


def cmd_explain(args):
    """auto_explain's plans (one request of each path was made between markers named after it)."""
    paths = json.load(open(args.paths))
    watched = args.tables
    plans, flagged, details = {}, {}, {}
    for target in paths:
        name = target["name"]
        texts = []
        for record in log_records(args.log, "explain " + name, "explain-end " + name):
            if record["message"].startswith("duration:") and "plan:" in record["message"]:
                texts.append(record["message"])
        plans[name] = texts
        scanned = sorted({m for t in texts for m in re.findall(r"Seq Scan on (\w+)", t)})
        details[name] = {"seq_scans": scanned, "statements": len(texts)}
        if not texts:
            flagged[name] = "no_plan"
        elif any(re.fullmatch(watched, table) for table in scanned):
            flagged[name] = "seq_scan"
        elif any(re.search(r"(Index (Only )?Scan (Backward )?using \S+|Bitmap Heap Scan) on (" + watched + r")\b", t) for t in texts):
            flagged[name] = "index"
        else:
            flagged[name] = "no_table_scan"
    with open(args.out, "w") as f:
        for name, texts in plans.items():
            note = "" if flagged[name] in ("index", "no_table_scan") else "   <-- " + flagged[name]
            f.write(f"===== {name}{note}   seq scans: {', '.join(details[name]['seq_scans']) or 'none'}\n")
            for text in texts:
                f.write(text + "\n\n")
    if args.details:
        with open(args.details, "w") as f:
            json.dump(details, f, indent=1, sort_keys=True)
    print(json.dumps(flagged))


# ---------------------------------------------------------------- analytics

def cmd_analytics_paths(args):
    """Callers (an admin, the busiest merchant, the customer with most orders) signed in with the
    bench password, and the paths the analytics benchmark measures: each analytics endpoint over the
    last whole month and over the whole year of the generated data, and the order reads."""
    emails = {"admin": "vol-admin@volume.hubroute.test"}
    emails["merchant"] = psql(args.db, """SELECT u.email FROM merchants m JOIN users u ON u.id = m.user_id
        ORDER BY (SELECT count(*) FROM sub_orders s WHERE s.merchant_id = m.id) DESC, m.id LIMIT 1""")[0][0]
    emails["customer"] = psql(args.db, """SELECT u.email FROM users u WHERE u.role = 'customer'
        ORDER BY (SELECT count(*) FROM orders o WHERE o.customer_id = u.id) DESC, u.id LIMIT 1""")[0][0]
    status, body = http_json("POST", args.base_url + "/api/v1/auth/register", {
        "email": "bench-hash@bench.hubroute.test", "password": args.password, "full_name": "Bench", "phone": "0712345678"})
    if status != 201:
        raise SystemExit(f"register: {status} {body}")
    quoted = ", ".join(f"'{e}'" for e in emails.values())
    psql(args.db, f"""UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = 'bench-hash@bench.hubroute.test')
        WHERE email IN ({quoted}) RETURNING id""")
    tokens = {}
    for role, email in emails.items():
        status, body = http_json("POST", args.base_url + "/api/v1/auth/login", {"email": email, "password": args.password})
        if status != 200:
            raise SystemExit(f"login {email}: {status} {body}")
        tokens[role] = body["access_token"]
    first, last = psql(args.db, """SELECT min((created_at AT TIME ZONE 'Africa/Nairobi')::date),
        max((created_at AT TIME ZONE 'Africa/Nairobi')::date) FROM orders""")[0]
    month_from, month_to = psql(args.db, f"""SELECT (date_trunc('month', '{last}'::date::timestamp) - interval '1 month')::date,
        (date_trunc('month', '{last}'::date::timestamp) - interval '1 day')::date""")[0]
    ranges = {"month": f"from={month_from}&to={month_to}", "year": f"from={first}&to={last}"}
    paths = []
    for report in ["sales", "merchants", "hubs", "products", "payments", "refunds"]:
        for span, query in ranges.items():
            paths.append({"name": f"analytics.{report}.{span}", "path": f"/api/v1/admin/analytics/{report}?{query}", "token": tokens["admin"]})
    paths.append({"name": "analytics.products.year.csv", "path": f"/api/v1/admin/analytics/products?{ranges['year']}",
                  "token": tokens["admin"], "accept": "text/csv"})
    for span, query in ranges.items():
        paths.append({"name": f"analytics.merchant.{span}", "path": f"/api/v1/merchant/analytics?{query}", "token": tokens["merchant"]})
    customer_order = psql(args.db, f"""SELECT o.id FROM orders o JOIN users u ON u.id = o.customer_id
        WHERE u.email = '{emails['customer']}' ORDER BY o.created_at DESC LIMIT 1""")[0][0]
    merchant_id = psql(args.db, f"SELECT m.id FROM merchants m JOIN users u ON u.id = m.user_id WHERE u.email = '{emails['merchant']}'")[0][0]
    some_customer = psql(args.db, "SELECT customer_id FROM orders ORDER BY created_at DESC LIMIT 1")[0][0]
    number = psql(args.db, "SELECT number FROM orders ORDER BY created_at LIMIT 1 OFFSET 5000")[0][0]
    reads = {
        "orders.detail": ("/api/v1/orders/" + customer_order, "customer"),
        "orders.customer": ("/api/v1/orders", "customer"),
        "orders.merchant": ("/api/v1/merchant/orders", "merchant"),
        "orders.merchant.delivered": ("/api/v1/merchant/orders?status=delivered", "merchant"),
        "orders.merchant.returning": ("/api/v1/merchant/orders?status=returning", "merchant"),
        "orders.admin": ("/api/v1/admin/orders", "admin"),
        "orders.admin.number": ("/api/v1/admin/orders?number=" + number, "admin"),
        "orders.admin.customer": ("/api/v1/admin/orders?customer_id=" + some_customer, "admin"),
        "orders.admin.merchant": ("/api/v1/admin/orders?merchant_id=" + merchant_id, "admin"),
        "orders.admin.range": (f"/api/v1/admin/orders?{ranges['month']}", "admin"),
    }
    for status_filter in ["delivered", "completed", "returned", "cancelled", "in_progress", "placed", "awaiting_payment"]:
        reads[f"orders.admin.status.{status_filter}"] = (f"/api/v1/admin/orders?status={status_filter}", "admin")
    for name, (path, role) in reads.items():
        paths.append({"name": name, "path": path, "token": tokens[role]})
    # A page deep into the admin's list: the cursor after 50 pages.
    cursor = None
    for _ in range(50):
        status, body = http_json("GET", args.base_url + "/api/v1/admin/orders" + (f"?cursor={urllib.parse.quote(cursor)}" if cursor else ""),
                                 token=tokens["admin"])
        if status != 200:
            raise SystemExit(f"admin orders: {status} {body}")
        cursor = body.get("next_cursor")
    if cursor:
        paths.append({"name": "orders.admin.page51", "path": "/api/v1/admin/orders?cursor=" + urllib.parse.quote(cursor), "token": tokens["admin"]})
    for target in paths:
        request = urllib.request.Request(args.base_url + target["path"])
        request.add_header("Authorization", "Bearer " + target["token"])
        if target.get("accept"):
            request.add_header("Accept", target["accept"])
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{target['name']}: {error.code} {error.read()[:300]}")
    with open(args.out, "w") as f:
        json.dump(paths, f, indent=1)
    with open(args.ranges, "w") as f:
        json.dump({"month": ranges["month"], "year": ranges["year"], "callers": emails}, f, indent=1)


# ---------------------------------------------------------------- reports

def pick(d, *path):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def cmd_checkout_report(args):
    runs = {}
    for name in ["closed-1", "closed-8", "closed-32", "open", "ceiling", "hot", "trace", "warmup", "idle"]:
        path = os.path.join(args.dir, name + ".json")
        if os.path.exists(path):
            runs[name] = json.load(open(path))
    checks = json.load(open(os.path.join(args.dir, "checks.json")))
    script = json.load(open(os.path.join(args.dir, "pgbench-summary.json")))
    ceiling = pick(runs, "ceiling", "checkouts_per_s")
    result = {
        "kind": "checkout",
        "when": utc_now(),
        "git": args.git,
        "machine": {"cores": os.cpu_count(), "load_average_at_end": os.getloadavg()},
        "pool_size": args.pool,
        "checkouts_per_s": {c: pick(runs, f"closed-{c}", "checkouts_per_s") for c in ["1", "8", "32"]},
        "ceiling_checkouts_per_s": ceiling,
        "ratio_to_ceiling": {c: (round(pick(runs, f"closed-{c}", "checkouts_per_s") / ceiling, 3)
                                 if ceiling and pick(runs, f"closed-{c}", "checkouts_per_s") else None) for c in ["8", "32"]},
        "latency_ms": {}, "open_loop": {},
        "cpu_ms_per_checkout": {}, "errors": {}, "peak_rss_mb": {},
        "pgbench_script": script, "checks": checks, "runs": runs,
    }
    for name in ["closed-1", "closed-8", "closed-32", "open"]:
        run = runs.get(name, {})
        result["latency_ms"][name] = {kind: {k: v for k, v in figures.items() if k in ("p50_ms", "p99_ms", "p999_ms", "max_ms")}
                                      for kind, figures in run.get("requests", {}).items()}
        result["errors"][name] = run.get("errors")
        result["peak_rss_mb"][name] = pick(run, "process", "service_peak_rss_mb")
        result["cpu_ms_per_checkout"][name] = {
            "service": pick(run, "process", "service_cpu_ms_per_checkout"),
            "postgres": pick(run, "process", "postgres_cpu_ms_per_checkout"),
            "loadgen": pick(run, "process", "loadgen_cpu_ms_per_checkout")}
        result.setdefault("service_context_switches_per_checkout", {})[name] = pick(
            run, "process", "service_context_switches_per_checkout")
    result["machine_steal_pct"] = {name: pick(runs, name, "process", "machine_steal_pct")
                                   for name in ["closed-1", "closed-8", "closed-32", "open", "ceiling"]}
    result["cpu_ms_per_checkout"]["ceiling"] = {"postgres": pick(runs, "ceiling", "process", "postgres_cpu_ms_per_checkout"),
                                                "pgbench": pick(runs, "ceiling", "process", "pgbench_cpu_ms_per_checkout")}
    result["open_loop"] = {"target_rate_per_s": pick(runs, "open", "target_rate_per_s"),
                           "achieved_checkouts_per_s": pick(runs, "open", "checkouts_per_s"),
                           "pool_waits": pick(runs, "open", "pool_waits"),
                           "worst_dispatch_lateness_ms": pick(runs, "open", "worst_dispatch_lateness_ms")}
    hot = runs.get("hot", {})
    result["hot_product"] = {"buyers": hot.get("buyers"), "sold": checks.get("hot_sold"),
                             "created_201": pick(hot, "statuses", "checkout", "201"),
                             "out_of_stock_409": hot.get("error_kinds", {}).get("checkout 409 out_of_stock", 0),
                             "other_errors": (hot.get("errors") or 0) - hot.get("error_kinds", {}).get("checkout 409 out_of_stock", 0),
                             "stock_left": checks.get("hot_stock_left"), "burst_ms": hot.get("burst_ms"),
                             "checkout_p50_ms": pick(hot, "requests", "checkout", "p50_ms"),
                             "checkout_p99_ms": pick(hot, "requests", "checkout", "p99_ms")}
    idle = pick(runs, "idle", "process") or {}
    result["service_idle_cpu_percent"] = round(idle["service_cpu_s"] / idle["wall_s"] * 100, 2) if idle.get("wall_s") else None
    result["max_peak_rss_mb"] = max([v for v in result["peak_rss_mb"].values() if v] or [0])
    hp = result["hot_product"]
    result["budgets"] = {  # SPEC section 16
        "ratio_at_32_at_least_0.6": (result["ratio_to_ceiling"]["32"] or 0) >= 0.6,
        "open_loop_checkout_p99_under_25ms": (pick(runs, "open", "requests", "checkout", "p99_ms") or 1e9) < 25,
        "peak_rss_under_200mb": result["max_peak_rss_mb"] < 200,
        "no_oversell_no_deadlock": checks.get("negative_stock") == 0 and checks.get("oversold_products") == 0
        and checks.get("deadlocks_total") == 0,
        "hot_product_exact": hp["sold"] == 50 and hp["out_of_stock_409"] == (hp["buyers"] or 0) - 50 and hp["other_errors"] == 0,
    }
    write_json(args.out, result)
    print_checkout(result)


def print_checkout(r):
    print(f"\ncheckout benchmark ({r['when']}, {r['git']}), pool {r['pool_size']}")
    print(f"{'run':<10} {'checkouts/s':>11} {'ratio':>6} {'errors':>6}  {'cart_add p50/p99/p99.9 ms':>27}  {'checkout p50/p99/p99.9 ms':>27}"
          f"  {'cpu ms/checkout svc/pg':>22} {'RSS MB':>7} {'steal %':>7}")
    for name in ["closed-1", "closed-8", "closed-32", "open"]:
        lat = r["latency_ms"].get(name, {})

        def triple(kind):
            k = lat.get(kind, {})
            return "/".join(f"{k.get(p, 0):.1f}" for p in ("p50_ms", "p99_ms", "p999_ms")) if k else "-"
        rate = r["open_loop"]["achieved_checkouts_per_s"] if name == "open" else r["checkouts_per_s"].get(name.split("-")[1])
        ratio = r["ratio_to_ceiling"].get(name.split("-")[1], "") if name != "open" else ""
        cpu = r["cpu_ms_per_checkout"].get(name, {})
        print(f"{name:<10} {rate or 0:>11.1f} {ratio or '':>6} {r['errors'].get(name) or 0:>6}  {triple('cart_add'):>27}  "
              f"{triple('checkout'):>27}  {cpu.get('service') or 0:>10.2f}/{cpu.get('postgres') or 0:<11.2f} {r['peak_rss_mb'].get(name) or 0:>7}"
              f" {r['machine_steal_pct'].get(name) or 0:>7.2f}")
    c = r["cpu_ms_per_checkout"]["ceiling"]
    print(f"{'ceiling':<10} {r['ceiling_checkouts_per_s'] or 0:>11.1f}  pgbench -c {r['pool_size']}: postgres {c.get('postgres')} ms/checkout,"
          f" pgbench {c.get('pgbench')} ms/checkout, steal {r['machine_steal_pct'].get('ceiling') or 0:.2f}%")
    print(f"open loop target {r['open_loop']['target_rate_per_s']}/s (half the closed-loop maximum)")
    h = r["hot_product"]
    print(f"hot product: {h['buyers']} buyers, stock 50: {h['sold']} sold, {h['out_of_stock_409']} out_of_stock, "
          f"{h['other_errors']} other errors, {h['stock_left']} left, burst {h['burst_ms']} ms")
    print(f"idle service: {r['service_idle_cpu_percent']}% of a core; peak RSS {r['max_peak_rss_mb']} MB")
    print(f"checks: {json.dumps(r['checks'])}")
    print("budgets: " + ", ".join(f"{k} {'PASS' if v else 'FAIL'}" for k, v in r["budgets"].items()))


def print_errors_and_plans(result, run):
    gauge = pick(run, "process", "machine_gauge_ms") or []
    print(f"errors {result['errors']}; CPU time stolen by the hypervisor meanwhile: {pick(run, 'process', 'machine_steal_pct')}%;"
          f" machine gauge before/after: {'/'.join(str(g) for g in gauge) or '-'} ms; plans in {result['plans_file']}")


def cmd_catalog_report(args):
    run = json.load(open(os.path.join(args.dir, "catalog-load.json")))
    flagged = json.load(open(os.path.join(args.dir, "seqscan.json")))
    queries = {}
    for name, figures in sorted(run.get("requests", {}).items()):
        queries[name] = {k: figures[k] for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms", "count")}
        queries[name]["requests_per_s"] = run.get("requests_per_s", {}).get(name)
        queries[name]["plan"] = flagged.get(name, "no_plan")
        queries[name]["p99_under_20ms"] = figures["p99_ms"] < 20
    result = {"kind": "catalog", "git": args.git, "products": args.products,
              "when": utc_now(),
              "clients": run.get("clients"), "errors": run.get("errors"), "queries": queries,
              "worst_p99_ms": max(q["p99_ms"] for q in queries.values()),
              "all_p99_under_20ms": all(q["p99_under_20ms"] for q in queries.values()),
              "any_seq_scan_on_products": any(v == "seq_scan" for v in flagged.values()),
              "plans_missing": sorted(k for k, v in flagged.items() if v == "no_plan"), "process": run.get("process"),
              "plans_file": os.path.join(args.dir, "plans.txt")}
    write_json(args.out, result)
    print(f"\ncatalog benchmark over {args.products} products ({result['when']}, {args.git}), {result['clients']} clients per query")
    print(f"{'query':<32} {'p50 ms':>7} {'p99 ms':>7} {'p99.9':>7} {'req/s':>7}  plan")
    for name, q in queries.items():
        print(f"{name:<32} {q['p50_ms']:>7.2f} {q['p99_ms']:>7.2f} {q['p999_ms']:>7.2f} {q['requests_per_s'] or 0:>7.0f}  "
              f"{q['plan'].upper() if q['plan'] != 'index' else 'index'}{'' if q['p99_under_20ms'] else '  p99 OVER 20 ms'}")
    print_errors_and_plans(result, run)


def cmd_analytics_report(args):
    run = json.load(open(os.path.join(args.dir, "analytics-load.json")))
    flagged = json.load(open(os.path.join(args.dir, "seqscan.json")))
    details = json.load(open(os.path.join(args.dir, "plan-details.json")))
    setup = json.load(open(os.path.join(args.dir, "setup.json")))
    queries = {}
    for name, figures in sorted(run.get("requests", {}).items()):
        queries[name] = {k: figures[k] for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms", "count")}
        queries[name]["requests_per_s"] = run.get("requests_per_s", {}).get(name)
        queries[name]["plan"] = flagged.get(name, "no_plan")
        queries[name]["seq_scans"] = details.get(name, {}).get("seq_scans", [])
        queries[name]["p99_under_50ms"] = figures["p99_ms"] < 50
    result = {"kind": "analytics", "git": args.git, "when": utc_now(),
              "clients": run.get("clients"), "errors": run.get("errors"), "setup": setup, "queries": queries,
              "worst_p99_ms": max(q["p99_ms"] for q in queries.values()),
              "all_p99_under_50ms": all(q["p99_under_50ms"] for q in queries.values()),
              "any_seq_scan_on_order_tables": any(v == "seq_scan" for v in flagged.values()),
              "plans_missing": sorted(k for k, v in flagged.items() if v == "no_plan"), "process": run.get("process"),
              "plans_file": os.path.join(args.dir, "plans.txt")}
    write_json(args.out, result)
    print(f"\nanalytics benchmark over {setup.get('orders')} orders ({result['when']}, {args.git}), {result['clients']} clients per path")
    print(f"seeded in {setup.get('seed_s')} s; audit-money: {setup.get('audit')}")
    for view, ms in setup.get("refresh_ms", {}).items():
        print(f"  refresh {view:<30} {ms:>7} ms")
    print(f"{'path':<36} {'p50 ms':>7} {'p99 ms':>7} {'p99.9':>7} {'req/s':>7}  plan / seq scans")
    for name, q in queries.items():
        print(f"{name:<36} {q['p50_ms']:>7.2f} {q['p99_ms']:>7.2f} {q['p999_ms']:>7.2f} {q['requests_per_s'] or 0:>7.0f}  "
              f"{q['plan']} {','.join(q['seq_scans']) or '-'}{'' if q['p99_under_50ms'] else '  p99 OVER 50 ms'}")
    print_errors_and_plans(result, run)


def flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, value


def cmd_compare(args):
    a, b = json.load(open(args.a)), json.load(open(args.b))
    skip = ("runs.", "pgbench_script.", "machine.")
    fa = {k: v for k, v in flatten(a) if args.all or not k.startswith(skip)}
    fb = {k: v for k, v in flatten(b) if args.all or not k.startswith(skip)}
    order = ["ratio_to_ceiling", "checkouts_per_s", "ceiling", "latency_ms", "open_loop", "queries", "worst",
             "cpu_ms_per_checkout", "peak_rss", "max_peak", "hot_product", "errors", "checks"]

    def rank(key):
        return next((i for i, prefix in enumerate(order) if key.startswith(prefix)), len(order)), key
    print(f"A: {args.a}\nB: {args.b}\n")
    print(f"{'figure':<58} {'A':>12} {'B':>12} {'change':>9}")
    for key in sorted(set(fa) | set(fb), key=rank):
        va, vb = fa.get(key), fb.get(key)
        change = ""
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va:
            change = f"{(vb - va) / abs(va) * 100:+.1f}%"
        print(f"{key:<58} {'' if va is None else round(va, 3):>12} {'' if vb is None else round(vb, 3):>12} {change:>9}")


# The checkout bench's traced customer (3 cart adds and a checkout): 4 requests, and the
# statements PostgreSQL received for them (its pgbench script says how many).
CHECKOUT_REQUESTS = 4
CHECKOUT_STATEMENTS = 14
CPU_TARGET_MS_PER_REQUEST = 0.5


def cmd_floor_report(args):
    paths = {}
    for name in ("stack.plain", "stack.select", "service.health", "service.products", "service.cart"):
        run = json.load(open(os.path.join(args.dir, f"{name}.json")))
        figures = run["requests"][name]
        count = figures["count"]
        process = run["process"]
        paths[name] = {"count": count, "errors": run.get("errors"), "requests_per_s": run["requests_per_s"][name],
                       "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"],
                       "cpu_ms_per_request": round(process["service_cpu_s"] * 1000 / count, 3),
                       "postgres_cpu_ms_per_request": round(process["postgres_cpu_s"] * 1000 / count, 3),
                       "machine_steal_pct": process["machine_steal_pct"]}
    cpu = {name: p["cpu_ms_per_request"] for name, p in paths.items()}
    request = cpu["stack.plain"]
    statement = cpu["stack.select"] - cpu["stack.plain"]
    checkout = CHECKOUT_REQUESTS * request + CHECKOUT_STATEMENTS * statement
    derived = {
        "stack_ms_per_request": round(request, 3),
        "stack_ms_per_statement": round(statement, 3),
        "stack_checkout_ms": round(checkout, 3),
        "stack_checkout_ms_per_request": round(checkout / CHECKOUT_REQUESTS, 3),
        "target_ms_per_request": CPU_TARGET_MS_PER_REQUEST,
        "service_middleware_ms_per_request": round(cpu["service.health"] - request, 3),
        "service_cart_over_stack_ms": round(cpu["service.cart"] - (request + 2 * statement), 3),
    }
    result = {"kind": "floor", "git": args.git, "clients": args.clients,
              "when": utc_now(),
              "paths": paths, "derived": derived,
              "checkout_shape": {"requests": CHECKOUT_REQUESTS, "statements": CHECKOUT_STATEMENTS}}
    write_json(args.out, result)
    print(f"\nthe stack's floor ({result['when']}, {args.git}), {args.clients} clients per path, CPU from /proc")
    print(f"{'path':<18} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms/req':>11} {'pg ms/req':>10} {'steal %':>8}  errors")
    for name, p in paths.items():
        print(f"{name:<18} {p['requests_per_s']:>8.0f} {p['p50_ms']:>7.2f} {p['p99_ms']:>7.2f} {p['cpu_ms_per_request']:>11.3f}"
              f" {p['postgres_cpu_ms_per_request']:>10.3f} {p['machine_steal_pct']:>8.2f}  {p['errors']}")
    print(f"Hummingbird alone: {derived['stack_ms_per_request']} ms per request; one PostgresClient statement adds "
          f"{derived['stack_ms_per_statement']} ms")
    print(f"a customer's {CHECKOUT_REQUESTS} requests and {CHECKOUT_STATEMENTS} statements on the bare stack: "
          f"{derived['stack_checkout_ms']} ms, {derived['stack_checkout_ms_per_request']} ms per request "
          f"(target {CPU_TARGET_MS_PER_REQUEST})")
    print(f"HubRoute's middlewares add {derived['service_middleware_ms_per_request']} ms to a request; its cart read "
          f"(token, caller lookup, 1 statement) costs {derived['service_cart_over_stack_ms']} ms over the stack's 2 statements")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("customers")
    p.add_argument("--db", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_customers)

    def measured(p):
        p.add_argument("--db", required=True)
        p.add_argument("--database", required=True)
        p.add_argument("--pgdata", required=True)
        p.add_argument("--service-pid", type=int, default=0)
        p.add_argument("--out", required=True)

    p = sub.add_parser("measure")
    measured(p)
    p.add_argument("--loadgen-out")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_measure)

    p = sub.add_parser("pgbench-script")
    p.add_argument("--db", required=True)
    p.add_argument("--database", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--traced", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--defines", required=True)
    p.add_argument("--summary", required=True)
    p.set_defaults(func=cmd_pgbench_script)

    p = sub.add_parser("ceiling")
    measured(p)
    p.add_argument("--pgbench", required=True)
    p.add_argument("--script", required=True)
    p.add_argument("--defines", required=True)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--duration", type=int, default=20)
    p.add_argument("--first", type=int, default=0)
    p.set_defaults(func=cmd_ceiling)

    p = sub.add_parser("catalog-paths")
    p.add_argument("--base-url", required=True)
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_catalog_paths)

    p = sub.add_parser("explain")
    p.add_argument("--log", required=True)
    p.add_argument("--paths", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--tables", default="products", help="a regular expression of the tables a Seq Scan of is flagged")
    p.add_argument("--details", help="also write each path's seq-scanned relations here (JSON)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("analytics-paths")
    p.add_argument("--db", required=True)
    p.add_argument("--base-url", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ranges", required=True)
    p.set_defaults(func=cmd_analytics_paths)

    p = sub.add_parser("analytics-report")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--git", default="")
    p.set_defaults(func=cmd_analytics_report)

    p = sub.add_parser("checkout-report")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--git", default="")
    p.add_argument("--pool", type=int, default=8)
    p.set_defaults(func=cmd_checkout_report)

    p = sub.add_parser("catalog-report")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--git", default="")
    p.add_argument("--products", type=int, default=100000)
    p.set_defaults(func=cmd_catalog_report)

    p = sub.add_parser("floor-report")
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--git", default="")
    p.add_argument("--clients", type=int, default=8)
    p.set_defaults(func=cmd_floor_report)

    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--all", action="store_true", help="also every run's raw figures")
    p.set_defaults(func=cmd_compare)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
