"""The console in a real browser (Debian's Chromium driven by Playwright), against a running
`hubroute serve` with the demo data and the Daraja simulator:

1. hub staff of Westlands signs in and takes a cash-on-delivery parcel from the merchant's
   drop-off to the customer's door (a wrong handover code first), then remits the cash;
2. an admin approves the seeded refund request and sees it paid (B2C through the simulator),
   then opens every admin page and each analytics dashboard (chart, date range, CSV);
3. refusals: a POST without the CSRF token, a customer's sign-in, a signed-out session.

Every page is also loaded 375 px wide and must not scroll sideways. Screenshots go to
$ARTIFACTS. Prints ok/not ok per check and `console_browser: N passed, M failed`; exits 1 on
any failure.

    BASE_URL=http://127.0.0.1:PORT ARTIFACTS=dir CHROMIUM=/usr/bin/chromium python browser_test.py
"""

import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid

from playwright.sync_api import sync_playwright

BASE = os.environ["BASE_URL"].rstrip("/")
ARTIFACTS = os.environ.get("ARTIFACTS", "console-artifacts")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PASSWORD = "hubroute-demo-password"
STAFF = "staff.nbo-wst@hubroute.test"
ADMIN = "admin@hubroute.test"
CUSTOMER = "customer.baraka@hubroute.test"
MERCHANT = "merchant.mitindo@hubroute.test"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

passed = 0
failed = 0
shots = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok - {name}", flush=True)
    else:
        failed += 1
        print(f"not ok - {name}", flush=True)
        if detail:
            print(f"  {detail}", flush=True)


def api(method, path, body=None, token=None, headers=None):
    """The JSON API, for the parts a customer and a merchant play."""
    request = urllib.request.Request(BASE + path, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data=data, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def token(email):
    status, body = api("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, f"login {email}: {status} {body}"
    return body["access_token"]


def shoot(page, name):
    """A full-page screenshot, then the same page 375 px wide: it must not scroll sideways."""
    global shots
    shots += 1
    base = os.path.join(ARTIFACTS, f"{shots:02d}-{name}")
    page.screenshot(path=base + ".png", full_page=True)
    # Resized, not reloaded: a reload would post a refused form again.
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=base + "-375.png", full_page=True)
    check(f"{name} fits 375 px", width <= PHONE["width"], f"the page is {width} px wide")
    page.set_viewport_size(size)


def sign_in(page, email):
    page.goto(BASE + "/console/sign-in")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def flash(page):
    notice = page.locator("#flash")
    return notice.inner_text() if notice.count() else ""


def place_cod_order():
    """Baraka (Westlands) buys a Mitindo shirt (home hub Westlands), paying cash; Mitindo
    accepts it. Returns the parcel and its handover code."""
    customer = token(CUSTOMER)
    status, products = api("GET", "/api/v1/products?q=Mitindo&limit=5")
    assert status == 200 and products["items"], f"products: {status} {products}"
    product = products["items"][0]["id"]
    api("DELETE", "/api/v1/cart", token=customer)
    status, _ = api("POST", "/api/v1/cart/items", {"product_id": product, "quantity": 1}, token=customer)
    assert status in (200, 201), f"cart: {status}"
    status, addresses = api("GET", "/api/v1/addresses", token=customer)
    address = addresses["items"][0]["id"]
    status, order = api(
        "POST", "/api/v1/orders", {"address_id": address, "payment_method": "cod"}, token=customer,
        headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, f"checkout: {status} {order}"
    parcel = order["sub_orders"][0]
    status, accepted = api("POST", f"/api/v1/merchant/orders/{parcel['id']}/accept", token=token(MERCHANT))
    assert status == 200, f"accept: {status} {accepted}"
    return parcel


def hub_staff_delivers(browser):
    parcel = place_cod_order()
    number, code, total = parcel["number"], parcel["handover_code"], parcel["total_cents"] // 100
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(BASE + "/console/sign-in")
    shoot(page, "sign-in")
    sign_in(page, STAFF)
    check("hub staff lands on the parcels", page.url.endswith("/console/hub"), page.url)
    shoot(page, "hub-parcels")

    page.fill("input[name=number]", number)
    page.click("form[role=search] button")
    check("the search finds the parcel", page.locator("#parcels a", has_text=number).count() == 1)
    page.click(f"#parcels a:has-text('{number}')")
    check("the parcel waits at its merchant's hub", page.inner_text("#status") == "Accepted")
    shoot(page, "hub-parcel-accepted")

    page.click("#receive-form button")
    check("receiving it is confirmed", "received" in flash(page), flash(page))
    check("it is at the destination hub (same hub)", page.inner_text("#status") == "At destination hub")
    page.fill("input[name=rider_name]", "Peter Kamau")
    page.fill("input[name=rider_phone]", "0799111222")
    page.click("#out-form button")
    check("it is out for delivery", page.inner_text("#status") == "Out for delivery", page.inner_text("#status"))
    check("the cash to collect is shown", "KES" in page.inner_text("#cash-due"))
    shoot(page, "hub-parcel-out-for-delivery")

    wrong = "000000" if code != "000000" else "111111"
    page.fill("input[name=handover_code]", wrong)
    page.fill("input[name=cash]", str(total))
    page.click("#deliver-form button")
    check("a wrong code is refused clearly", "Wrong handover code" in page.inner_text("#failure"))
    check("the form keeps what was typed", page.input_value("input[name=cash]") == str(total))
    shoot(page, "hub-parcel-wrong-code")

    page.fill("input[name=handover_code]", code)
    page.fill("input[name=cash]", str(total - 1))
    page.click("#deliver-form button")
    check("a wrong cash amount is refused clearly", "Collect exactly" in page.inner_text("#failure"))
    page.fill("input[name=cash]", str(total))
    page.click("#deliver-form button")
    check("the parcel is delivered", page.inner_text("#status") == "Delivered" and "delivered" in flash(page))
    shoot(page, "hub-parcel-delivered")

    page.click("nav.tabs >> text=My cash")
    open_cash = page.inner_text("#open-cash")
    check("the collected cash is open", open_cash.startswith("KES") and open_cash != "KES 0.00", open_cash)
    shoot(page, "hub-cash")
    page.fill("input[name=declared]", open_cash.replace("KES", "").strip())
    page.click("#remit-form button")
    check("the cash is remitted", "Remitted" in flash(page) and "no variance" in flash(page), flash(page))
    check("nothing is open afterwards", page.inner_text("#open-cash") == "KES 0.00")
    shoot(page, "hub-cash-remitted")

    # A POST without the CSRF token, with the session's cookie: refused.
    response = page.request.post(BASE + "/console/hub/cash/remit", form={"declared": "1"}, max_redirects=0)
    check("a POST without the CSRF token is refused", response.status == 403, str(response.status))

    # Signed out: the old cookie opens nothing.
    cookies = context.cookies()
    csrf = page.get_attribute("form[action='/console/sign-out'] input[name=_csrf]", "value")
    page.click("#sign-out")
    check("signing out returns to the sign-in page", "/console/sign-in" in page.url)
    stale = browser.new_context(viewport=DESKTOP)
    stale.add_cookies(cookies)
    again = stale.new_page()
    again.goto(BASE + "/console/hub")
    check("a signed-out session is sent to sign in", again.url.startswith(BASE + "/console/sign-in"), again.url)
    response = again.request.post(BASE + "/console/hub/cash/remit", form={"declared": "1", "_csrf": csrf}, max_redirects=0)
    check("a signed-out session's POST is refused", response.status == 401, str(response.status))
    stale.close()
    context.close()


def admin_approves_and_browses(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, ADMIN)
    check("the admin lands on the refund queue", page.url.endswith("/console/admin/refunds"), page.url)
    shoot(page, "admin-refunds")
    page.click("#refunds a >> nth=0")
    check("the refund is requested", page.inner_text("#refund-status") == "Requested")
    check("the evidence is linked", page.locator("#evidence a").count() >= 1)
    shoot(page, "admin-refund-requested")
    page.fill("textarea[name=approve_note]", "Sorry about the seam.")
    page.click("#approve-form button")
    check("the approval is confirmed", "approved" in flash(page), flash(page))
    deadline = time.monotonic() + 45
    while page.inner_text("#refund-status") != "Paid" and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()
    check("the refund is paid by M-Pesa", page.inner_text("#refund-status") == "Paid", page.inner_text("#refund-status"))
    check("the receipt is shown", page.locator("#receipt").count() == 1)
    shoot(page, "admin-refund-paid")

    for name, path in [
        ("admin-payments", "/console/admin/payments"),
        ("admin-applications", "/console/admin/merchant-applications"),
        ("admin-hubs", "/console/admin/hubs"),
        ("admin-zones", "/console/admin/zones"),
        ("admin-categories", "/console/admin/categories"),
    ]:
        page.goto(BASE + path)
        check(f"{name} opens", page.locator("main h1").count() == 1 and page.locator("#failure").count() == 0)
        shoot(page, name)
    page.goto(BASE + "/console/admin/hubs")
    page.click("#hubs a >> nth=0")
    check("a hub's page lists its staff", page.locator("#staff li").count() >= 1)
    shoot(page, "admin-hub")
    admin_reads_dashboards(page)
    context.close()


def admin_reads_dashboards(page):
    """Each dashboard: a server-drawn chart, when its figures were counted, a date range, a CSV."""
    page.click("nav.tabs >> text=Analytics")
    for name, label in [
        ("sales", "Daily sales"), ("hubs", "Hub performance"), ("payments", "Payment mix"), ("refunds", "Refunds by reason"),
    ]:
        page.click(f"nav.subtabs >> text={label}")
        check(f"the {name} dashboard opens", page.url.startswith(f"{BASE}/console/admin/analytics/{name}"), page.url)
        check(f"the {name} dashboard draws a chart", page.locator("#chart svg").count() == 1)
        check(f"the {name} dashboard says when it was counted", page.locator("#refreshed time").count() == 1)
        csv = page.request.get(BASE + page.get_attribute("#csv", "href"))
        check(f"the {name} CSV downloads", csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
              and "," in csv.text().split("\r\n")[0], f"{csv.status} {csv.headers.get('content-type')}")
        shoot(page, f"admin-analytics-{name}")

    start, end = page.input_value("input[name=from]"), page.input_value("input[name=to]")
    page.fill("input[name=from]", end)
    page.click("#range-form button")
    check("the date range filters the dashboard", f"from={end}" in page.url and page.input_value("input[name=from]") == end,
          page.url)
    page.goto(f"{BASE}/console/admin/analytics/refunds?from={end}&to={start}")
    check("a reversed range is explained on the page", page.locator("#failure").count() == 1
          and page.locator("#chart").count() == 0, page.inner_text("main"))
    shoot(page, "admin-analytics-bad-range")


def customer_is_refused(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, CUSTOMER)
    check("a customer's sign-in is refused", "hub staff and admins" in page.inner_text("#failure"))
    check("no session cookie for a customer", not any(c["name"] == "hubroute_console" for c in context.cookies()))
    shoot(page, "customer-refused")
    context.close()


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        for scenario in (hub_staff_delivers, admin_approves_and_browses, customer_is_refused):
            try:
                scenario(browser)
            except Exception:
                check(f"{scenario.__name__} ran to its end", False, traceback.format_exc().replace("\n", "\n  "))
        browser.close()
    print(f"screenshots in {ARTIFACTS} ({time.monotonic() - started:.0f} s)")
    print(f"console_browser: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
