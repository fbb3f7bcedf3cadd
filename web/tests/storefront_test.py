"""Browser end-to-end test of the storefront, through nginx only.

Headless Debian chromium (/usr/bin/chromium, or CHROMIUM) driven by Python playwright (PyPI,
sync API; no npm, and no browser download: never run `playwright install` for this). It
creates two products through the public API as the admin, then in the browser: the size of a
first load (under 100 KB), sign up, search, add the two products, change a quantity, checkout
with tok_ok, see the order, cancel it, a declined checkout (tok_declined) that must show the
shopper's message and the trace id, and the admin area as the demo admin. A screenshot per
step goes to STOREFRONT_OUT (default: a new temp dir), printed at the start and the end.

Every step asserts; the first failing step stops the run with a message naming it (and a
screenshot of the page as it was). The last line of the output is the summary
`N passed, M failed`; the exit status is 0 only when nothing failed (64: bad environment).

Environment:
  MALL_URL             the stack's public URL (nginx), required
  MALL_ADMIN_EMAIL     the demo admin (default admin@mall.local)
  MALL_ADMIN_PASSWORD  its password, required (creates the products; the admin area)
  CHROMIUM             the browser (default /usr/bin/chromium)
  STOREFRONT_OUT       folder for the screenshots and first-load.txt (default: new temp dir)

Run it (the virtualenv that scripts/test makes holds playwright):
  MALL_URL=http://127.0.0.1:8080 MALL_ADMIN_PASSWORD="$(cat var/secrets/admin-password)" \\
    ~/.cache/mall/venv/bin/python web/tests/storefront_test.py
"""

import json
import os
import random
import re
import shutil
import string
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

TIMEOUT_MS = 30_000  # every wait on a condition (selectors, expect, functions)
FIRST_LOAD_LIMIT = 100 * 1024
TRACE_RE = re.compile(r"^[0-9a-f]{32}$")
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def log(*parts):
    print("[storefront]", *parts, flush=True)


class CheckFailed(AssertionError):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed("check failed: " + what)
    log("ok:", what)


def env_or_exit(name, default=None):
    value = os.environ.get(name, default)
    if not value:
        print(f"[storefront] {name} is not set", file=sys.stderr, flush=True)
        sys.exit(64)
    return value


BASE = env_or_exit("MALL_URL").rstrip("/")
ADMIN_EMAIL = env_or_exit("MALL_ADMIN_EMAIL", "admin@mall.local")
ADMIN_PASSWORD = env_or_exit("MALL_ADMIN_PASSWORD")
CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
OUT = os.environ.get("STOREFRONT_OUT") or tempfile.mkdtemp(prefix="mall-storefront.")
os.makedirs(OUT, exist_ok=True)
RUN = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(BASE))


def api_call(method, path, body=None, token=None):
    """One call to the public API through nginx; anything but 2xx raises with the answer."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_MS / 1000) as res:
            text = res.read().decode()
    except urllib.error.HTTPError as e:
        raise CheckFailed(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None
    except urllib.error.URLError as e:
        raise CheckFailed(f"{method} {path}: {e.reason}") from None
    return json.loads(text) if text else None


class Storefront:
    """The steps, in order; each one asserts, and later steps use what earlier ones made."""

    def __init__(self, pw):
        self.pw = pw
        self.ctx = None
        self.page = None
        self.user_data_dir = None
        self.shot = 0
        self.made = []
        self.order_id = None
        self.foreign = []
        self.page_errors = []
        self.server_errors = []

    # --- helpers ------------------------------------------------------------------------
    def watch(self, page):
        def on_request(r):
            u = r.url
            if u != ORIGIN and not u.startswith(ORIGIN + "/") and not u.startswith("data:"):
                self.foreign.append(u)

        def on_response(r):
            if r.status >= 500:
                self.server_errors.append(f"{r.request.method} {r.url} -> {r.status}")

        page.on("request", on_request)
        page.on("response", on_response)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def snap(self, name):
        self.shot += 1
        file = os.path.join(OUT, f"{self.shot:02d}-{name}.png")
        self.page.screenshot(path=file, full_page=True)
        log("screenshot", file)

    def total_digits(self):
        return re.sub(r"\D", "", self.page.locator("#total").inner_text())

    # --- steps ----------------------------------------------------------------------------
    def create_products(self):
        admin = api_call("POST", "/api/users/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        check(bool(admin and admin.get("access_token")), f"admin {ADMIN_EMAIL} signed in through the API")
        category = f"Storefront {RUN}"
        for name, price in ((f"Kettle {RUN}", 32000), (f"Teapot {RUN}", 18500)):
            p = api_call("POST", "/api/products", {
                "name": name,
                "description": f"A test {name.split(' ')[0].lower()} for the storefront test.",
                "price": price, "stock": 20, "category": category,
                "image_url": "/images/products/" + re.sub(r"\s+", "-", name.lower()) + ".svg",
            }, admin["access_token"])
            check(isinstance(p, dict) and isinstance(p.get("id"), int) and p.get("name") == name
                  and p.get("price") == price, f"product {name} created (id {p and p.get('id')})")
            self.made.append(p)

    def launch(self):
        self.user_data_dir = tempfile.mkdtemp(prefix="mall-chromium.")
        # A fresh profile (--user-data-dir) per run; playwright passes it as that flag.
        self.ctx = self.pw.chromium.launch_persistent_context(
            self.user_data_dir, executable_path=CHROMIUM, headless=True,
            viewport={"width": 1280, "height": 900}, args=CHROME_ARGS)
        self.ctx.set_default_timeout(TIMEOUT_MS)
        blank = self.ctx.pages[0] if self.ctx.pages else self.ctx.new_page()
        agent = blank.evaluate("() => navigator.userAgent")
        check("Chrome/" in agent, f"chromium started ({CHROMIUM}: {agent})")

    def first_load(self):
        # Bytes over the wire, fresh cache, the way docs/performance.md describes.
        page = self.ctx.new_page()
        self.watch(page)
        cdp = self.ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        seen = {"bytes": 0, "requests": 0}

        def finished(e):
            seen["bytes"] += int(e["encodedDataLength"])
            seen["requests"] += 1

        cdp.on("Network.loadingFinished", finished)
        page.goto(BASE + "/", wait_until="networkidle")
        page.wait_for_selector("#products, main p")
        n, b = seen["requests"], seen["bytes"]
        log(f"first load: {n} requests, {b} bytes transferred ({b / 1024:.1f} KB)")
        with open(os.path.join(OUT, "first-load.txt"), "w") as f:
            f.write(f"{n} requests\n{b} bytes\n")
        check(n >= 3 and b > 0, f"first load measured (page, stylesheet, script at least: {n} requests)")
        check(b < FIRST_LOAD_LIMIT, f"first load under 100 KB ({b} bytes)")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        cdp.detach()
        page.close()

    def home(self):
        self.page = self.ctx.new_page()
        self.watch(self.page)
        self.page.goto(BASE + "/")
        self.page.wait_for_selector("#filters")
        expect(self.page.locator("h1")).to_have_text("Products", timeout=TIMEOUT_MS)
        check(True, "home page shows the products and the search form")
        self.snap("home")

    def sign_up(self):
        page = self.page
        email = f"shopper-{RUN}@example.com"
        page.click('a[href="#/signup"]')
        page.fill("#name", f"Shopper {RUN}")
        page.fill("#email", email)
        page.fill("#password", "correct horse battery")
        page.click("form#f button[type=submit]")
        page.wait_for_selector("#signout")
        expect(page.locator("#flash .alert.ok")).to_contain_text("Your account is ready", timeout=TIMEOUT_MS)
        expect(page.locator("#who")).to_have_text(f"Shopper {RUN}", timeout=TIMEOUT_MS)
        check(True, f"signed up and signed in as {email}")
        self.snap("signed-up")

    def search(self):
        page = self.page
        page.fill("#q", RUN)
        page.click("#filters button[type=submit]")
        page.wait_for_function("run => document.querySelector('h1')?.textContent.includes(run)",
                               arg=RUN, timeout=TIMEOUT_MS)
        page.wait_for_selector("#products")
        cards = page.locator("#products .card")
        n = cards.count()
        check(n == 2, f"search for {RUN} finds the two products ({n})")
        ids = sorted(int(x) for x in cards.evaluate_all("cs => cs.map(c => c.dataset.id)"))
        check(ids == sorted(p["id"] for p in self.made), f"the cards are the products made ({ids})")
        self.snap("search")

    def add_two(self):
        page = self.page
        for p in self.made:
            page.click(f'#products button.add[data-id="{p["id"]}"]')
            expect(page.locator("#flash .alert.ok", has_text=f"Added {p['name']} to your cart")) \
                .to_be_visible(timeout=TIMEOUT_MS)
            check(True, f"added {p['name']} to the cart")
        self.snap("added-two")

    def cart(self):
        page = self.page
        first, second = self.made
        page.click('nav a[href="#/cart"]')
        qty = f'input.qty[data-id="{first["id"]}"]'
        page.wait_for_selector(qty)
        rows = page.locator("table tbody tr")
        check(rows.count() == 2, f"the cart has two lines ({rows.count()})")
        check(self.total_digits() == str(first["price"] + second["price"]),
              f"cart total before the change is {first['price'] + second['price']} ({self.total_digits()})")
        page.fill(qty, "2")
        page.press(qty, "Tab")
        expected = 2 * first["price"] + second["price"]
        page.wait_for_function(
            "t => document.getElementById('total')?.textContent.replace(/\\D/g, '') === String(t)",
            arg=expected, timeout=TIMEOUT_MS)
        check(self.total_digits() == str(expected), f"cart total after quantity change is {expected}")
        expect(page.locator(qty)).to_have_value("2", timeout=TIMEOUT_MS)
        self.snap("cart")

    def checkout_ok(self):
        page = self.page
        page.click('a[href="#/checkout"]')
        page.wait_for_selector("#card")
        page.select_option("#card", "tok_ok")
        self.snap("checkout")
        page.click("form#f button[type=submit]")
        page.wait_for_function(r"() => /^#\/orders\/\d+$/.test(location.hash)", timeout=TIMEOUT_MS)
        page.wait_for_selector("#order-status .status.paid", timeout=TIMEOUT_MS)
        self.order_id = page.evaluate("() => location.hash").split("/")[-1]
        check(self.order_id.isdigit(), f"order {self.order_id} is paid")
        self.snap("order-paid")

    def order_history(self):
        page = self.page
        link = f'a[href="#/orders/{self.order_id}"]'
        page.click('nav a[href="#/orders"]')
        page.wait_for_selector(f"#orders {link}")
        expect(page.locator(f"#orders tr:has({link}) .status")).to_have_text("paid", timeout=TIMEOUT_MS)
        check(True, f"order {self.order_id} is in the history, paid")
        self.snap("orders")

    def cancel(self):
        page = self.page
        page.click(f'#orders a[href="#/orders/{self.order_id}"]')
        page.wait_for_selector("#cancel")
        page.click("#cancel")
        page.wait_for_selector("#order-status .status.cancelled")
        check(page.locator("#cancel").count() == 0, f"order {self.order_id} is cancelled")
        self.snap("order-cancelled")

    def declined(self):
        # The shopper's message in words and the trace id as the support reference.
        page = self.page
        p = self.made[1]
        page.goto(f"{BASE}/#/p/{p['id']}")
        page.wait_for_selector("form#add")
        page.click("form#add button[type=submit]")
        expect(page.locator("#flash .alert.ok", has_text=f"Added {p['name']}")).to_be_visible(timeout=TIMEOUT_MS)
        page.goto(f"{BASE}/#/checkout")
        page.wait_for_selector("#card")
        page.select_option("#card", "tok_declined")
        page.click("form#f button[type=submit]")
        alert = page.locator('#err [role=alert][data-code="payment_declined"]')
        alert.wait_for()
        text = alert.inner_text()
        trace = alert.locator("code.trace-id").inner_text().strip()
        check(re.search(r"declined", text, re.I) is not None and "No money was taken" in text,
              f'declined message says "declined" and "No money was taken" (shown: "{" ".join(text.split())}")')
        check(TRACE_RE.match(trace) is not None, f"trace id shown as support reference ({trace})")
        check(page.evaluate("() => location.hash") == "#/checkout", "a declined card stays on the checkout")
        self.snap("declined")

    def admin_hidden(self):
        n = self.page.locator('nav a[href="#/admin"]').count()
        check(n == 0, "no admin link for a shopper")

    def slow_page_never_draws_over_the_next(self):
        # A page still loading (the catalog, its answer held back 1.5 s in the page's own
        # fetch) when the shopper moves on (to Sign in) must not draw over the new page.
        page = self.page
        page.evaluate(
            """() => {
                const real = window.fetch;
                window.fetch = (url, opts) => String(url).startsWith('/api/products')
                    ? new Promise((ok) => setTimeout(() => ok(real(url, opts)), 1500))
                    : real(url, opts);
                location.hash = '#/?q=slow';
                setTimeout(() => { location.hash = '#/signin'; }, 100);
            }"""
        )
        page.wait_for_timeout(2500)
        title = page.locator("main h1").inner_text()
        check(title == "Sign in", f"the page navigated to stays (saw {title!r})")
        page.reload()
        page.wait_for_selector("#signout")

    def admin_sign_in(self):
        page = self.page
        page.click("#signout")
        page.wait_for_selector('nav a[href="#/signin"]')
        page.click('nav a[href="#/signin"]')
        page.fill("#email", ADMIN_EMAIL)
        page.fill("#password", ADMIN_PASSWORD)
        page.click("form#f button[type=submit]")
        page.wait_for_selector('nav a[href="#/admin"]')
        page.click('nav a[href="#/admin"]')
        page.wait_for_selector(".stats")
        check(page.locator(".stats li").count() >= 3, "the admin sees the admin area with its numbers")
        self.snap("admin-stats")

    def admin_stock(self):
        page = self.page
        p = self.made[0]
        page.goto(f"{BASE}/#/admin/products/{p['id']}")
        page.wait_for_selector("#sf")
        before = int(page.locator("#stock").inner_text())
        page.fill("#delta", "-1000")
        page.click("#sf button[type=submit]")
        page.wait_for_selector("#serr [role=alert] code.trace-id")
        trace = page.locator("#serr [role=alert] code.trace-id").inner_text().strip()
        check(TRACE_RE.match(trace) is not None,
              f"a refused stock change is explained with a trace id ({trace})")
        check(int(page.locator("#stock").inner_text()) == before, f"the refused change left the stock at {before}")
        page.fill("#delta", "5")
        page.click("#sf button[type=submit]")
        page.wait_for_selector("#serr .alert.ok")
        expect(page.locator("#stock")).to_have_text(str(before + 5), timeout=TIMEOUT_MS)
        check(True, f"stock change of +5 applied ({before} -> {before + 5})")
        self.snap("admin-product")

    def admin_orders(self):
        page = self.page
        page.goto(f"{BASE}/#/admin/orders")
        page.wait_for_selector("table tbody tr")
        row = page.locator("table tbody tr").filter(has=page.locator("td", has_text=re.compile(rf"^#{self.order_id}$")))
        expect(row.locator(".status")).to_have_text("cancelled", timeout=TIMEOUT_MS)
        check(True, f"the admin's order list shows order {self.order_id}, cancelled")
        self.snap("admin-orders")

    def no_foreign(self):
        check(not self.foreign, f"no request left the host ({', '.join(self.foreign) or 'none'})")

    def no_script_errors(self):
        check(not self.page_errors, f"no script errors ({'; '.join(self.page_errors) or 'none'})")

    def no_server_errors(self):
        check(not self.server_errors, f"no 5xx answer to the browser ({'; '.join(self.server_errors) or 'none'})")

    def steps(self):
        return [
            ("create two products (admin, public API)", self.create_products),
            ("launch chromium", self.launch),
            ("first load under 100 KB", self.first_load),
            ("home page", self.home),
            ("sign up (and signed in)", self.sign_up),
            ("search", self.search),
            ("add two products", self.add_two),
            ("cart: quantity change and total", self.cart),
            ("checkout with tok_ok: order paid", self.checkout_ok),
            ("the order in the history", self.order_history),
            ("cancel the order", self.cancel),
            ("declined checkout (tok_declined): message and trace id", self.declined),
            ("no admin link for a shopper", self.admin_hidden),
            ("a slow page never draws over the next one", self.slow_page_never_draws_over_the_next),
            ("admin signs in: stats", self.admin_sign_in),
            ("admin: refused and applied stock change", self.admin_stock),
            ("admin: orders", self.admin_orders),
            ("no request left the host", self.no_foreign),
            ("no script errors", self.no_script_errors),
            ("no 5xx answers", self.no_server_errors),
        ]

    def close(self):
        if self.ctx is not None:
            try:
                self.ctx.close()
            except PlaywrightError as e:
                log("closing chromium:", e)
        if self.user_data_dir:
            shutil.rmtree(self.user_data_dir, ignore_errors=True)


def describe(e):
    if isinstance(e, CheckFailed):
        return str(e)
    # playwright's messages carry a call log; keep it, it says what was waited for.
    lines = f"{type(e).__name__}: {e}".strip().splitlines()
    return "\n".join(lines[:25] + (["..."] if len(lines) > 25 else []))


def main():
    log("output folder:", OUT)
    log("run id:", RUN, "against", BASE)
    passed, failed, not_run = 0, 0, []
    started = time.monotonic()
    with sync_playwright() as pw:
        sf = Storefront(pw)
        try:
            for name, fn in sf.steps():
                if failed:
                    not_run.append(name)
                    continue
                t0 = time.monotonic()
                log(f"--- {name}")
                try:
                    fn()
                except Exception as e:  # noqa: BLE001 - every failure is reported by step
                    failed += 1
                    print(f"[storefront] FAILED step '{name}': {describe(e)}", file=sys.stderr, flush=True)
                    if not isinstance(e, (AssertionError, PlaywrightError)):
                        traceback.print_exc()
                    if sf.page is not None and not sf.page.is_closed():
                        try:
                            sf.snap("FAILED")
                        except PlaywrightError as se:
                            log("no screenshot of the failure:", se)
                    if sf.page_errors:
                        log("script errors so far:", "; ".join(sf.page_errors))
                    if sf.server_errors:
                        log("5xx answers so far:", "; ".join(sf.server_errors))
                else:
                    passed += 1
                    log(f"PASS {name} ({time.monotonic() - t0:.1f}s)")
        finally:
            sf.close()
    if not_run:
        log(f"not run after the failure ({len(not_run)}):", "; ".join(not_run))
    log(f"{'passed' if not failed else 'FAILED'} in {time.monotonic() - started:.1f}s; screenshots in", OUT)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
