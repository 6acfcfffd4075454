#!/usr/bin/env python3
"""Load and probes for scripts/faults.sh: customers of a running HubRoute log in, fill carts,
check out and push M-Pesa payments, and every response is recorded (one JSON object per line)
so the fault checks can compare what clients were told with what the database holds.
Standard library only (threads and http.client).

    load.py checkout --bases URL[,URL] --customers FILE --products FILE --duration S --out FILE
    load.py orders   --bases URL --customers FILE --products FILE --method mpesa --out FILE
    load.py push     --orders FILE --phase NAME --phone-suffix 00|04|alternate --out FILE [--probe URL]
    load.py logins   --bases URL[,URL] --count N (--email E | --ip ADDRESS) --out FILE
    load.py hot      --bases URL[,URL] --customers FILE --product ID --out FILE
    load.py stats    --records FILE [--op OP] [--phase P] [--from T] [--to T] [--after T]
    load.py acked    --records FILE --csv FILE

A record: {op, who, base, t0, t1, status, code, rid, key, order_id, sub_orders, items, phase};
`rid` is the X-Request-Id sent, which the service's request log line carries.
`status` 0 means no HTTP answer (connection refused or cut, or no answer within --timeout).
Every customer sends its own X-Forwarded-For address (the services trust 127.0.0.1 as a proxy in
the fault runs), so per-address rate limits count customers, not the loopback address.
"""
import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

PASSWORD = "hubroute-demo-password"


class Recorder:
    """Appends records to a file; safe across threads."""

    def __init__(self, path):
        self.file = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, record):
        with self.lock:
            self.file.write(json.dumps(record) + "\n")

    def close(self):
        self.file.close()


class Client:
    """One keep-alive connection to one base URL; reconnects after any transport failure."""

    def __init__(self, base, timeout, forwarded_for=None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.forwarded_for = forwarded_for
        self.token = None
        self.connection = None
        self.last_request_id = None

    def request(self, method, path, body=None, headers=None):
        """Returns (status, parsed JSON body or None, seconds); status 0 when nothing answered."""
        # Our own request id: the service logs it, so a record can be found in the service's log.
        request_id = uuid.uuid4().hex[:16]
        self.last_request_id = request_id
        all_headers = {"Accept": "application/json", "X-Request-Id": request_id}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        if self.token:
            all_headers["Authorization"] = "Bearer " + self.token
        if self.forwarded_for:
            all_headers["X-Forwarded-For"] = self.forwarded_for
        all_headers.update(headers or {})
        payload = json.dumps(body).encode() if body is not None else None
        started = time.time()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request(method, path, body=payload, headers=all_headers)
            response = self.connection.getresponse()
            raw = response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return 0, {"error": type(error).__name__}, time.time() - started
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, parsed, time.time() - started

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def record(recorder, op, who, base, t0, t1, status, body, **extra):
    entry = {"op": op, "who": who, "base": base, "t0": round(t0, 4), "t1": round(t1, 4), "status": status}
    if isinstance(body, dict):
        if "code" in body:
            entry["code"] = body["code"]
        if "error" in body and status == 0:
            entry["error"] = body["error"]
    entry.update(extra)
    recorder.write(entry)


def timed(recorder, client, op, who, base_index, method, path, body=None, headers=None, **extra):
    t0 = time.time()
    status, parsed, _ = client.request(method, path, body, headers)
    record(recorder, op, who, base_index, t0, time.time(), status, parsed, rid=client.last_request_id, **extra)
    return status, parsed


def read_lines(path):
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip()]


def customer_address(index):
    """A documentation-range address per customer for X-Forwarded-For."""
    return "198.18.%d.%d" % (index // 250, index % 250 + 1)


def retrying(deadline, call, pause=0.2):
    """Repeats `call` while it gets no answer or 503, until the deadline; returns its last result."""
    while True:
        status, parsed = call()
        if status not in (0, 503) or time.time() >= deadline:
            return status, parsed
        time.sleep(pause)


def sign_in(client, recorder, email, base_index, deadline):
    client.token = None
    status, parsed = retrying(
        deadline, lambda: timed(recorder, client, "login", email, base_index, "POST", "/api/v1/auth/login",
                                {"email": email, "password": PASSWORD}))
    if status != 200:
        return None
    client.token = parsed["access_token"]
    status, parsed = retrying(deadline, lambda: timed(recorder, client, "addresses", email, base_index, "GET", "/api/v1/addresses"))
    if status != 200:
        return None
    return parsed["items"][0]["id"]


def order_shape(parsed):
    subs = parsed.get("sub_orders", [])
    return {"order_id": parsed.get("id"), "sub_orders": len(subs), "items": sum(len(s.get("items", [])) for s in subs)}


def fill_cart(client, recorder, email, base_index, products, rng, lines):
    """Empties the cart and adds `lines` random products; False when the service did not answer."""
    status, _ = timed(recorder, client, "cart", email, base_index, "DELETE", "/api/v1/cart")
    if status != 204:
        return False
    added = 0
    for product in rng.sample(products, lines):
        status, _ = timed(recorder, client, "cart", email, base_index, "POST", "/api/v1/cart/items",
                          {"product_id": product, "quantity": rng.randint(1, 2)})
        if status == 200:
            added += 1
        elif status != 409:  # 409: sold out meanwhile; anything else: try again later
            return False
    return added > 0


def checkout(client, recorder, email, base_index, address, key, method, phase=None):
    t0 = time.time()
    status, parsed, _ = client.request("POST", "/api/v1/orders", {"address_id": address, "payment_method": method},
                                       {"Idempotency-Key": key})
    extra = {"key": key, "rid": client.last_request_id}
    if phase:
        extra["phase"] = phase
    if status in (200, 201) and isinstance(parsed, dict):
        extra.update(order_shape(parsed))
    record(recorder, "checkout", email, base_index, t0, time.time(), status, parsed, **extra)
    return status, parsed


# MARK: checkout load

def checkout_worker(args, bases, index, email, products, recorder, start, stop, drain_until):
    base_index = index % len(bases)
    client = Client(bases[base_index], args.timeout, customer_address(index))
    rng = random.Random(index)
    address = sign_in(client, recorder, email, base_index, drain_until)
    if address is None:
        return
    start.wait()
    unresolved = None  # the key of a checkout that got no definite answer: retried as it is
    while True:
        now = time.time()
        if now >= drain_until or (unresolved is None and now >= stop):
            break
        if unresolved is None:
            if not fill_cart(client, recorder, email, base_index, products, rng, rng.randint(1, 3)):
                time.sleep(0.2)
                continue
            key = str(uuid.uuid4())
        else:
            key = unresolved
        status, _ = checkout(client, recorder, email, base_index, address, key, args.method)
        if status in (0, 503):
            # Maybe committed, maybe not: only the same key tells, once the service answers again.
            unresolved = key
            time.sleep(0.2)
        else:
            unresolved = None
    if unresolved is not None:
        record(recorder, "unresolved", email, base_index, time.time(), time.time(), 0, None, key=unresolved)


def command_checkout(args):
    bases = args.bases.split(",")
    customers = read_lines(args.customers)[: args.threads]
    products = read_lines(args.products)
    recorder = Recorder(args.out)
    start = threading.Barrier(len(customers) + 1)
    threads = []
    began = time.time()
    stop = began + args.login_grace + args.duration
    drain_until = stop + args.drain
    for index, email in enumerate(customers):
        thread = threading.Thread(
            target=checkout_worker, args=(args, bases, index, email, products, recorder, start, stop, drain_until), daemon=True)
        thread.start()
        threads.append(thread)
    try:
        start.wait(timeout=args.login_grace)
    except threading.BrokenBarrierError:
        print("load: not every customer signed in within %ss" % args.login_grace, file=sys.stderr)
    for thread in threads:
        thread.join(timeout=max(0, drain_until - time.time()) + args.timeout + 5)
    recorder.close()


# MARK: one order per customer

def command_orders(args):
    bases = args.bases.split(",")
    customers = read_lines(args.customers)
    products = read_lines(args.products)
    recorder = Recorder(args.out)
    results = [None] * len(customers)
    deadline = time.time() + 60

    def work(index, email):
        base_index = index % len(bases)
        client = Client(bases[base_index], args.timeout, customer_address(1000 + index))
        address = sign_in(client, recorder, email, base_index, deadline)
        if address is None:
            return
        rng = random.Random(index)
        if not fill_cart(client, recorder, email, base_index, products, rng, 1):
            return
        status, parsed = checkout(client, recorder, email, base_index, address, str(uuid.uuid4()), args.method, args.phase)
        if status == 201:
            results[index] = {"email": email, "index": index, "base": base_index, "order_id": parsed["id"], "token": client.token}

    threads = [threading.Thread(target=work, args=(i, e), daemon=True) for i, e in enumerate(customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    recorder.close()
    made = [r for r in results if r]
    with open(args.orders_out, "w") as handle:
        json.dump(made, handle)
    print("orders: %d of %d customers have an order" % (len(made), len(customers)), file=sys.stderr)


# MARK: STK pushes

def phone_for(index, suffix):
    """A distinct Kenyan mobile number per customer; the last two digits choose the simulator's outcome."""
    if suffix == "alternate":
        suffix = "00" if index % 2 == 0 else "04"
    return "0711%04d%s" % (index, suffix)


def command_push(args):
    orders = json.load(open(args.orders))
    bases = args.bases.split(",")
    recorder = Recorder(args.out)
    start = threading.Barrier(len(orders) + (1 if args.probe else 0))
    done = threading.Event()

    def work(order):
        client = Client(bases[order["base"] % len(bases)], args.timeout, customer_address(1000 + order["index"]))
        client.token = order["token"]
        start.wait()
        timed(recorder, client, "push", order["email"], order["base"], "POST", "/api/v1/payments/mpesa/stk-push",
              {"order_id": order["order_id"], "phone": phone_for(order["index"], args.phone_suffix)},
              phase=args.phase, order_id=order["order_id"])

    def probe():
        # Requests that need no Daraja must stay fast while pushes wait for it.
        client = Client(bases[0], args.timeout)
        start.wait()
        while not done.is_set():
            timed(recorder, client, "probe", "probe", 0, "GET", args.probe, phase=args.phase)
            time.sleep(0.05)

    threads = [threading.Thread(target=work, args=(order,), daemon=True) for order in orders]
    prober = threading.Thread(target=probe, daemon=True) if args.probe else None
    for thread in threads + ([prober] if prober else []):
        thread.start()
    for thread in threads:
        thread.join(timeout=args.timeout + 30)
    done.set()
    if prober:
        prober.join(timeout=args.timeout + 5)
    recorder.close()


# MARK: rate limits

def command_logins(args):
    bases = args.bases.split(",")
    recorder = Recorder(args.out)
    start = threading.Barrier(args.count)

    def work(index):
        # Either one email from many addresses, or many (unknown) emails from one address.
        address = args.ip or "198.19.%d.%d" % (index // 250, index % 250 + 1)
        email = args.email or "nobody-%d@faults.test" % index
        client = Client(bases[index % len(bases)], args.timeout, address)
        start.wait()
        timed(recorder, client, "login", email, index % len(bases), "POST", "/api/v1/auth/login",
              {"email": email, "password": "not-the-password-%d" % index}, phase=args.phase)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(args.count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.timeout + 30)
    recorder.close()


# MARK: a hot product

def command_hot(args):
    bases = args.bases.split(",")
    customers = read_lines(args.customers)
    recorder = Recorder(args.out)
    start = threading.Barrier(len(customers))
    deadline = time.time() + 60

    def work(index, email):
        base_index = index % len(bases)
        client = Client(bases[base_index], args.timeout, customer_address(2000 + index))
        address = sign_in(client, recorder, email, base_index, deadline)
        ready = address is not None
        if ready:
            timed(recorder, client, "cart", email, base_index, "DELETE", "/api/v1/cart")
            status, _ = timed(recorder, client, "cart", email, base_index, "POST", "/api/v1/cart/items",
                              {"product_id": args.product, "quantity": 1})
            ready = status == 200
        try:
            start.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        if ready:
            checkout(client, recorder, email, base_index, address, str(uuid.uuid4()), "cod", args.phase)

    threads = [threading.Thread(target=work, args=(i, e), daemon=True) for i, e in enumerate(customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    recorder.close()


# MARK: reading the records

def load_records(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def command_stats(args):
    """Prints NAME=VALUE lines (numbers only) about the selected records."""
    records = load_records(args.records)
    ops = set(args.op.split(",")) if args.op else None
    chosen = [
        r for r in records
        if (ops is None or r["op"] in ops)
        and (args.phase is None or r.get("phase") == args.phase)
        and (args.base is None or r["base"] == args.base)
        and (args.from_ is None or r["t0"] >= args.from_)
        and (args.to is None or r["t0"] <= args.to)
    ]
    print("n=%d" % len(chosen))
    counts = {}
    for r in chosen:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    for status in sorted(counts):
        print("s%d=%d" % (status, counts[status]))
    print("other=%d" % sum(1 for r in chosen if r["status"] not in args.expected))
    latencies = sorted((r["t1"] - r["t0"]) * 1000 for r in chosen)
    if latencies:
        print("p50_ms=%d" % statistics.median(latencies))
        print("p95_ms=%d" % latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))])
        print("min_ms=%d" % latencies[0])
        print("max_ms=%d" % latencies[-1])
    if args.after is not None:
        ok = [r["t1"] for r in chosen if 200 <= r["status"] < 300 and r["t0"] >= args.after]
        if ok:
            print("first_ok=%.3f" % min(ok))


def command_acked(args):
    """Writes order_id,sub_orders,items for every checkout answered 200 or 201 (deduplicated)."""
    shapes = {}
    for r in load_records(args.records):
        if r["op"] == "checkout" and r["status"] in (200, 201) and r.get("order_id"):
            shapes[r["order_id"]] = (r["sub_orders"], r["items"])
    with open(args.csv, "w") as handle:
        for order_id, (subs, items) in sorted(shapes.items()):
            handle.write("%s,%d,%d\n" % (order_id, subs, items))
    print(len(shapes))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name, function):
        command = commands.add_parser(name)
        command.set_defaults(function=function)
        command.add_argument("--timeout", type=float, default=30, help="seconds without an answer that count as none")
        return command

    c = add("checkout", command_checkout)
    c.add_argument("--bases", required=True)
    c.add_argument("--customers", required=True)
    c.add_argument("--products", required=True)
    c.add_argument("--threads", type=int, default=24)
    c.add_argument("--duration", type=float, required=True, help="seconds of new checkouts")
    c.add_argument("--drain", type=float, default=20, help="seconds more to settle checkouts left without an answer")
    c.add_argument("--login-grace", type=float, default=20)
    c.add_argument("--method", default="cod")
    c.add_argument("--out", required=True)

    c = add("orders", command_orders)
    c.add_argument("--bases", required=True)
    c.add_argument("--customers", required=True)
    c.add_argument("--products", required=True)
    c.add_argument("--method", default="mpesa")
    c.add_argument("--phase")
    c.add_argument("--out", required=True)
    c.add_argument("--orders-out", required=True)

    c = add("push", command_push)
    c.add_argument("--bases", required=True)
    c.add_argument("--orders", required=True)
    c.add_argument("--phase", required=True)
    c.add_argument("--phone-suffix", default="00")
    c.add_argument("--probe", help="a path fetched over and over meanwhile")
    c.add_argument("--out", required=True)

    c = add("logins", command_logins)
    c.add_argument("--bases", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--email")
    c.add_argument("--ip")
    c.add_argument("--phase")
    c.add_argument("--out", required=True)

    c = add("hot", command_hot)
    c.add_argument("--bases", required=True)
    c.add_argument("--customers", required=True)
    c.add_argument("--product", required=True)
    c.add_argument("--phase")
    c.add_argument("--out", required=True)

    c = add("stats", command_stats)
    c.add_argument("--records", required=True)
    c.add_argument("--op")
    c.add_argument("--phase")
    c.add_argument("--base", type=int)
    c.add_argument("--from", dest="from_", type=float, help="only requests sent at or after this time")
    c.add_argument("--to", type=float, help="only requests sent at or before this time")
    c.add_argument("--after", type=float)
    c.add_argument("--expected", type=lambda text: {int(s) for s in text.split(",")}, default=set(),
                   help="statuses that are fine; `other` counts the rest")

    c = add("acked", command_acked)
    c.add_argument("--records", required=True)
    c.add_argument("--csv", required=True)

    args = parser.parse_args()
    args.function(args)


if __name__ == "__main__":
    main()
