// Browser end-to-end test of the storefront, through nginx only.
//
// Headless Debian chromium (/usr/bin/chromium, or CHROMIUM) driven by playwright-core: sign up,
// search, add two products, change a quantity, checkout with tok_ok, see the order, cancel it,
// then a declined checkout (tok_declined) that must show the shopper's message and the trace
// id; the admin area as the demo admin; the size of a first load. A screenshot per step goes
// to STOREFRONT_OUT (default: a new temp dir), printed at the start and the end.
//
// Environment: MALL_URL (required), MALL_ADMIN_EMAIL, MALL_ADMIN_PASSWORD (to create the
// products the test buys, and to look at the admin area).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const BASE = (process.env.MALL_URL || '').replace(/\/$/, '');
if (!BASE) { console.error('MALL_URL is not set'); process.exit(64); }
const ADMIN_EMAIL = process.env.MALL_ADMIN_EMAIL || 'admin@mall.local';
const ADMIN_PASSWORD = process.env.MALL_ADMIN_PASSWORD || '';
const OUT = process.env.STOREFRONT_OUT || fs.mkdtempSync(path.join(os.tmpdir(), 'mall-storefront.'));
fs.mkdirSync(OUT, { recursive: true });
const RUN = Math.random().toString(36).slice(2, 8);
const TRACE_RE = /^[0-9a-f]{32}$/;

let shot = 0;
const log = (...a) => console.log('[storefront]', ...a);
function check(cond, what) { if (!cond) throw new Error('check failed: ' + what); log('ok:', what); }

async function apiCall(method, p, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(BASE + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function main() {
  log('output folder:', OUT);
  // --- products to buy (admin, through the public API) -------------------------------------
  const admin = await apiCall('POST', '/api/users/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const category = `Storefront ${RUN}`;
  const made = [];
  for (const [name, price] of [[`Kettle ${RUN}`, 32000], [`Teapot ${RUN}`, 18500]]) {
    made.push(await apiCall('POST', '/api/products', {
      name, description: `A test ${name.split(' ')[0].toLowerCase()} for the storefront test.`, price, stock: 20,
      category, image_url: `/images/products/${name.toLowerCase().replace(/\s+/g, '-')}.svg`,
    }, admin.access_token));
  }
  log('created products', made.map((p) => p.id).join(', '));

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mall-chromium.'));
  // A fresh profile (--user-data-dir) per run; playwright-core passes it as that flag.
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const foreign = [];
  const pageErrors = [];
  try {
    // --- first load: bytes over the wire, fresh cache -------------------------------------------
    {
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      let bytes = 0, requests = 0;
      cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; requests += 1; });
      await page.goto(BASE + '/', { waitUntil: 'networkidle' });
      await page.waitForSelector('#products, main p');
      log(`first load: ${requests} requests, ${bytes} bytes transferred (${(bytes / 1024).toFixed(1)} KB)`);
      fs.writeFileSync(path.join(OUT, 'first-load.txt'), `${requests} requests\n${bytes} bytes\n`);
      check(bytes < 100 * 1024, `first load under 100 KB (${bytes} bytes)`);
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
      await page.close();
    }

    const page = await ctx.newPage();
    const origin = new URL(BASE).origin;
    page.on('request', (r) => { const u = r.url(); if (!u.startsWith(origin) && !u.startsWith('data:')) foreign.push(u); });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const snap = async (name) => {
      const file = path.join(OUT, `${String(++shot).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      log('screenshot', file);
    };

    // 1. home
    await page.goto(BASE + '/');
    await page.waitForSelector('#filters');
    await snap('home');

    // 2. sign up (and signed in)
    const email = `shopper-${RUN}@example.com`;
    await page.click('a[href="#/signup"]');
    await page.fill('#name', `Shopper ${RUN}`);
    await page.fill('#email', email);
    await page.fill('#password', 'correct horse battery');
    await page.click('form#f button[type=submit]');
    await page.waitForSelector('#signout');
    check(await page.isVisible('text=Your account is ready'), 'signed up and signed in');
    await snap('signed-up');

    // 3. search
    await page.fill('#q', RUN);
    await page.click('#filters button[type=submit]');
    await page.waitForFunction((run) => document.querySelector('h1')?.textContent.includes(run), RUN);
    await page.waitForSelector('#products');
    const cards = await page.locator('#products .card').count();
    check(cards === 2, `search for ${RUN} finds the two products (${cards})`);
    await snap('search');

    // 4. add two products
    for (const p of made) {
      await page.click(`#products button.add[data-id="${p.id}"]`);
      await page.waitForSelector(`#flash .alert.ok:has-text("${p.name}")`);
    }
    await snap('added-two');

    // 5. cart, quantity change
    await page.click('nav a[href="#/cart"]');
    await page.waitForSelector(`input.qty[data-id="${made[0].id}"]`);
    await page.fill(`input.qty[data-id="${made[0].id}"]`, '2');
    await page.press(`input.qty[data-id="${made[0].id}"]`, 'Tab');
    const expected = 2 * made[0].price + made[1].price;
    await page.waitForFunction((t) => document.getElementById('total')?.textContent.replace(/\D/g, '') === String(t), expected);
    check(true, `cart total after quantity change is ${expected}`);
    await snap('cart');

    // 6. checkout tok_ok
    await page.click('a[href="#/checkout"]');
    await page.waitForSelector('#card');
    await page.selectOption('#card', 'tok_ok');
    await snap('checkout');
    await page.click('form#f button[type=submit]');
    await page.waitForFunction(() => /^#\/orders\/\d+$/.test(location.hash));
    await page.waitForSelector('#order-status .status.paid', { timeout: 30000 });
    const orderHash = await page.evaluate(() => location.hash);
    const orderId = orderHash.split('/').pop();
    check(true, `order ${orderId} is paid`);
    await snap('order-paid');

    // 7. the order in the history
    await page.click('nav a[href="#/orders"]');
    await page.waitForSelector(`#orders a[href="#/orders/${orderId}"]`);
    await snap('orders');

    // 8. cancel it
    await page.click(`#orders a[href="#/orders/${orderId}"]`);
    await page.waitForSelector('#cancel');
    await page.click('#cancel');
    await page.waitForSelector('#order-status .status.cancelled');
    check(true, `order ${orderId} is cancelled`);
    await snap('order-cancelled');

    // 9. declined checkout: message in words and the trace id
    await page.goto(`${BASE}/#/p/${made[1].id}`);
    await page.waitForSelector('form#add');
    await page.click('form#add button[type=submit]');
    await page.waitForSelector('#flash .alert.ok');
    await page.goto(`${BASE}/#/checkout`);
    await page.waitForSelector('#card');
    await page.selectOption('#card', 'tok_declined');
    await page.click('form#f button[type=submit]');
    const alert = page.locator('#err [role=alert][data-code="payment_declined"]');
    await alert.waitFor();
    const text = await alert.innerText();
    const trace = (await alert.locator('code.trace-id').innerText()).trim();
    check(/declined/i.test(text) && /No money was taken/.test(text), `declined message shown: "${text.split('\n')[0]}"`);
    check(TRACE_RE.test(trace), `trace id shown as support reference (${trace})`);
    await snap('declined');

    // 10. admin area: hidden for shoppers, there for the admin
    check(await page.locator('nav a[href="#/admin"]').count() === 0, 'no admin link for a shopper');
    await page.click('#signout');
    await page.waitForSelector('nav a[href="#/signin"]');
    await page.click('nav a[href="#/signin"]');
    await page.fill('#email', ADMIN_EMAIL);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('form#f button[type=submit]');
    await page.waitForSelector('nav a[href="#/admin"]');
    await page.click('nav a[href="#/admin"]');
    await page.waitForSelector('.stats');
    await snap('admin-stats');
    await page.goto(`${BASE}/#/admin/products/${made[0].id}`);
    await page.waitForSelector('#sf');
    await page.fill('#delta', '-1000');
    await page.click('#sf button[type=submit]');
    await page.waitForSelector('#serr [role=alert] code.trace-id');
    check(true, 'a refused stock change is explained with a trace id');
    await page.fill('#delta', '5');
    await page.click('#sf button[type=submit]');
    await page.waitForSelector('#serr .alert.ok');
    await snap('admin-product');
    await page.goto(`${BASE}/#/admin/orders`);
    await page.waitForSelector('table tbody tr');
    await snap('admin-orders');

    check(foreign.length === 0, `no request left the host (${foreign.join(', ') || 'none'})`);
    check(pageErrors.length === 0, `no script errors (${pageErrors.join('; ') || 'none'})`);
  } finally {
    await ctx.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  log('passed; screenshots in', OUT);
}

main().catch((e) => {
  console.error('[storefront] FAILED:', e && e.stack ? e.stack : e);
  console.error('[storefront] screenshots so far in', OUT);
  process.exit(1);
});
