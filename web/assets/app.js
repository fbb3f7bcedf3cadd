// The Mall storefront: vanilla JS, hash routing, only the public API (/api/ through nginx).
'use strict';
(() => {
  const PLACEHOLDER = '/images/products/placeholder.svg';
  const main = document.getElementById('main');
  const nav = document.getElementById('nav');
  const flashBox = document.getElementById('flash');

  // --- helpers ------------------------------------------------------------------------
  const h = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  // Amounts are integers in their currency's minor unit (cents for USD, won for KRW, which
  // has none): shown in that currency, with its own number of decimals. Every amount the
  // API sends is below 2^53, so it is exact as a JS number.
  const money = (minor, cur) => {
    const currency = cur || 'KRW';
    try {
      const fmt = new Intl.NumberFormat('en', { style: 'currency', currency });
      const digits = fmt.resolvedOptions().maximumFractionDigits;
      return fmt.format(Number(minor) / 10 ** digits);
    } catch (_) { return `${minor} ${currency} (minor units)`; }
  };
  // One total per currency (a cart a catalog change left holding two has no single total).
  const totalsText = (c) => (c.total != null ? money(c.total, c.currency) : (c.totals || []).map((t) => money(t.total, t.currency)).join(' + '));
  const when = (t) => (t ? new Date(t).toLocaleString() : '');
  const hex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');
  const imgSrc = (p) => (p && typeof p.image_url === 'string' && p.image_url.startsWith('/') && !p.image_url.startsWith('//') ? p.image_url : PLACEHOLDER);
  const img = (p, cls) => `<img src="${h(imgSrc(p))}" alt="" width="320" height="240" loading="lazy"${cls ? ` class="${cls}"` : ''}>`;
  // A missing product picture falls back to the placeholder (capture: error events do not bubble).
  document.addEventListener('error', (e) => {
    const t = e.target;
    if (t && t.tagName === 'IMG' && !t.dataset.fallback) { t.dataset.fallback = '1'; t.src = PLACEHOLDER; }
  }, true);

  // --- errors in a shopper's words --------------------------------------------------------
  const WORDS = {
    bad_request: 'Something in that request was not understood. Please check the form and try again.',
    unknown_field: 'Something in that request was not understood. Please check the form and try again.',
    validation_failed: 'Some of the details are not valid',
    invalid_idempotency_key: 'Your order could not be submitted. Please try again.',
    unauthorized: 'Please sign in to continue.',
    token_expired: 'Your session has expired. Please sign in again.',
    token_revoked: 'You have been signed out. Please sign in again.',
    invalid_credentials: 'That email and password do not match an account.',
    payment_declined: 'Your card was declined. No money was taken. Please try another card.',
    forbidden: 'You do not have permission to do that.',
    not_found: 'We could not find that. It may have been removed.',
    method_not_allowed: 'That action is not available.',
    email_taken: 'An account with this email already exists. Try signing in instead.',
    out_of_stock: 'Sorry, there is not enough stock for something in your order. Nothing was charged.',
    insufficient_stock: 'The stock cannot go below zero.',
    stock_limit_exceeded: 'The stock cannot go above its maximum.',
    currency_mismatch: 'Your cart holds products priced in another currency. Check out or empty your cart before adding this one.',
    idempotency_key_reused: 'This order was already submitted with different contents. Please try again.',
    order_not_cancellable: 'This order can no longer be cancelled (only paid orders can be).',
    payload_too_large: 'That is too much text. Please shorten it.',
    uri_too_long: 'That search is too long. Please shorten it.',
    unsupported_media_type: 'Something went wrong sending your request. Please try again.',
    cart_empty: 'Your cart is empty. Add something before checking out.',
    rate_limited: 'Too many attempts. Please wait a moment and try again.',
    internal_error: 'Something went wrong on our side. Please try again in a moment.',
    bad_gateway: 'Part of the shop is not responding right now. Please try again in a moment.',
    service_unavailable: 'The shop is busy or under maintenance. Please try again in a moment.',
    gateway_timeout: 'The shop took too long to answer. Please try again in a moment.',
    network: 'We could not reach the shop. Check your connection and try again.',
  };
  class ApiError extends Error {
    constructor(status, code, message, traceId) { super(message); this.status = status; this.code = code; this.traceId = traceId; }
  }
  const words = (e) => {
    if (!(e instanceof ApiError)) return 'Something went wrong. Please reload the page.';
    let w = WORDS[e.code] || (e.status >= 500 ? WORDS.internal_error : 'Something went wrong. Please try again.');
    // Validation messages from the API are written for people ("password must be at least 10 characters").
    if (e.code === 'validation_failed' && e.message) w += ': ' + e.message.replace(/\.$/, '') + '.';
    else if (e.code === 'validation_failed') w += '.';
    return w;
  };
  const errorHtml = (e) => `<div class="alert error" role="alert" data-code="${h(e.code || '')}"><p>${h(words(e))}</p>${
    e.traceId ? `<p class="ref">Support reference: <code class="trace-id">${h(e.traceId)}</code></p>` : ''}</div>`;
  // carry: the message is about to be followed by a navigation and should survive it once.
  const flash = (html, carry) => { flashBox.dataset.carry = carry ? '1' : ''; flashBox.innerHTML = html ? `<div style="max-width:64rem;margin:0 auto;padding:0 1.25rem">${html}</div>` : ''; };
  const flashOk = (msg, carry) => flash(`<div class="alert ok"><p>${h(msg)}</p></div>`, carry);

  // --- session ------------------------------------------------------------------------------
  const KEY = 'mall.session';
  let session = null; // {access, refresh, exp (ms), claims}
  let refreshTimer = 0;
  let refreshing = null;
  const decode = (jwt) => {
    try {
      const b = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(decodeURIComponent(escape(atob(b + '==='.slice((b.length + 3) % 4)))));
    } catch (_) { return {}; }
  };
  const isAdmin = () => !!(session && Array.isArray(session.claims.roles) && session.claims.roles.includes('admin'));
  function setSession(tok) {
    if (!tok) {
      session = null;
      sessionStorage.removeItem(KEY);
      clearTimeout(refreshTimer);
    } else {
      const claims = decode(tok.access_token);
      const exp = claims.exp ? claims.exp * 1000 : Date.now() + (tok.expires_in || 900) * 1000;
      const name = tok.name || (session && session.name) || '';
      session = { access: tok.access_token, refresh: tok.refresh_token, exp, claims, name };
      sessionStorage.setItem(KEY, JSON.stringify({ access_token: tok.access_token, refresh_token: tok.refresh_token, expires_in: tok.expires_in, name }));
      scheduleRefresh();
    }
    renderNav();
  }
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    if (!session) return;
    // Refresh a minute before expiry (or at 80 % of a short lifetime).
    const left = session.exp - Date.now();
    const wait = Math.max(0, Math.min(left - 60000, left * 0.8));
    refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
  }
  function refresh() {
    if (!session) return Promise.reject(new ApiError(401, 'unauthorized', '', ''));
    if (refreshing) return refreshing;
    refreshing = request('POST', '/api/users/refresh', { refresh_token: session.refresh }, { auth: false })
      .then((tok) => { setSession(tok); return tok; })
      .catch((e) => {
        // A refresh the server refused ends the session; a network blip is retried shortly.
        if (e.status === 401 || e.status === 400 || e.status === 422) {
          setSession(null);
          flash(errorHtml(new ApiError(e.status, 'token_expired', '', e.traceId)), true);
          if (needsAuth(location.hash)) go('#/signin');
        } else if (session) {
          refreshTimer = setTimeout(() => refresh().catch(() => {}), 5000);
        }
        throw e;
      })
      .finally(() => { refreshing = null; });
    return refreshing;
  }

  // --- the API --------------------------------------------------------------------------------
  async function request(method, path, body, opts = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.auth !== false && session) headers.Authorization = 'Bearer ' + session.access;
    Object.assign(headers, opts.headers || {});
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (_) {
      throw new ApiError(0, 'network', '', '');
    }
    const trace = res.headers.get('X-Trace-Id') || '';
    let data = null;
    const text = await res.text();
    if (text) { try { data = JSON.parse(text); } catch (_) { data = null; } }
    if (!res.ok) {
      const err = (data && data.error) || {};
      const code = err.code || (res.status >= 500 ? 'internal_error' : 'bad_request');
      throw new ApiError(res.status, code, err.message || '', err.trace_id || trace);
    }
    return opts.full ? { status: res.status, data, trace } : data;
  }
  async function api(method, path, body, opts = {}) {
    if (session && opts.auth !== false && session.exp - Date.now() < 5000) await refresh().catch(() => {});
    try {
      return await request(method, path, body, opts);
    } catch (e) {
      if (e.status === 401 && e.code === 'token_expired' && session && opts.auth !== false && !opts.retried) {
        await refresh();
        return api(method, path, body, { ...opts, retried: true });
      }
      if (e.status === 401 && session && opts.auth !== false && (e.code === 'token_revoked' || e.code === 'unauthorized')) {
        setSession(null);
      }
      throw e;
    }
  }

  // --- navigation -------------------------------------------------------------------------------
  const go = (hash) => { if (location.hash === hash) route(); else location.hash = hash; };
  const needsAuth = (hash) => /^#\/(cart|checkout|orders|admin)/.test(hash || '');
  function renderNav() {
    const links = ['<a href="#/">Products</a>'];
    if (session) {
      links.push('<a href="#/cart">Cart</a>', '<a href="#/orders">Orders</a>');
      if (isAdmin()) links.push('<a href="#/admin">Admin</a>');
      links.push(`<span class="muted" id="who">${h(session.name || 'Signed in')}${isAdmin() ? ' (admin)' : ''}</span>`, '<button type="button" class="link" id="signout">Sign out</button>');
    } else {
      links.push('<a href="#/signin">Sign in</a>', '<a href="#/signup">Create account</a>');
    }
    nav.innerHTML = links.join('');
    const so = document.getElementById('signout');
    if (so) so.onclick = signOut;
  }
  async function whoAmI() {
    try { const me = await api('GET', '/api/users/me'); if (session) { session.name = me.name; setSession({ access_token: session.access, refresh_token: session.refresh, name: me.name }); } } catch (_) { /* the name is decoration */ }
  }
  async function signOut() {
    try { await request('POST', '/api/users/logout', undefined); } catch (_) { /* signed out locally anyway */ }
    setSession(null);
    flashOk('You are signed out.', true);
    go('#/');
  }
  const view = (title, html) => {
    document.title = title + ' — Mall';
    main.innerHTML = `<h1 tabindex="-1">${h(title)}</h1>${html}`;
  };
  const qs = (params) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
    const s = u.toString();
    return s ? '?' + s : '';
  };
  const pager = (base, params, page, size, total) => {
    const pages = Math.max(1, Math.ceil(total / size));
    return `<nav class="pager" aria-label="Pages">${page > 1 ? `<a href="${base}${qs({ ...params, page: page - 1 })}" rel="prev">← Previous</a>` : ''}
      <span>Page ${page} of ${pages} (${total} in all)</span>${page < pages ? `<a href="${base}${qs({ ...params, page: page + 1 })}" rel="next">Next →</a>` : ''}</nav>`;
  };
  const busy = async (btn, fn) => { btn.disabled = true; try { return await fn(); } finally { btn.disabled = false; } };
  const formData = (form) => Object.fromEntries(new FormData(form).entries());

  // --- pages -------------------------------------------------------------------------------------
  const SORTS = [['newest', 'Newest'], ['price_asc', 'Price: low to high'], ['price_desc', 'Price: high to low'], ['name', 'Name']];
  let categories = null;
  async function pageProducts(params) {
    const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
    const q = params.get('q') || '', category = params.get('category') || '', sort = params.get('sort') || 'newest';
    if (!categories) categories = await api('GET', '/api/categories').catch(() => []);
    const list = await api('GET', '/api/products' + qs({ q, category, sort, page, size: 12 }));
    view(q ? `Results for “${q}”` : category || 'Products', `
      <form class="filters" id="filters" role="search">
        <div><label for="q">Search</label><input id="q" name="q" type="search" value="${h(q)}"></div>
        <div><label for="category">Category</label><select id="category" name="category"><option value="">All categories</option>${
          categories.map((c) => `<option value="${h(c.name)}"${c.name === category ? ' selected' : ''}>${h(c.name)} (${c.product_count})</option>`).join('')}</select></div>
        <div><label for="sort">Sort by</label><select id="sort" name="sort">${SORTS.map(([v, t]) => `<option value="${v}"${v === sort ? ' selected' : ''}>${t}</option>`).join('')}</select></div>
        <button type="submit">Search</button>
      </form>
      ${list.items.length ? `<ul class="grid" id="products">${list.items.map((p) => `<li class="card" data-id="${p.id}">
        <a href="#/p/${p.id}" tabindex="-1" aria-hidden="true">${img(p)}</a>
        <h2><a href="#/p/${p.id}">${h(p.name)}</a></h2>
        <span class="muted">${h(p.category)}</span>
        <span class="price">${money(p.price, p.currency)}</span>
        ${p.stock > 0 ? `<button type="button" class="add" data-id="${p.id}" data-name="${h(p.name)}">Add to cart</button>` : '<span class="muted">Out of stock</span>'}
      </li>`).join('')}</ul>` : '<p>No products match. Try another search or category.</p>'}
      ${pager('#/', { q, category, sort }, page, list.size, list.total)}`);
    const f = document.getElementById('filters');
    f.onsubmit = (e) => { e.preventDefault(); go('#/' + qs({ ...formData(f), page: '' })); };
    f.category.onchange = f.sort.onchange = () => f.requestSubmit();
    main.querySelectorAll('button.add').forEach((b) => { b.onclick = () => busy(b, () => addToCart(+b.dataset.id, b.dataset.name, 1)); });
  }
  async function addToCart(id, name, n) {
    if (!session) { flashOk('Please sign in to add things to your cart.', true); go('#/signin'); return; }
    try {
      const cart = await api('GET', '/api/cart');
      const line = cart.items.find((i) => i.product_id === id);
      await api('PUT', `/api/cart/items/${id}`, { quantity: Math.min(99, (line ? line.quantity : 0) + n) });
      flash(`<div class="alert ok"><p>Added ${h(name)} to your cart. <a href="#/cart">View cart</a></p></div>`);
    } catch (e) { flash(errorHtml(e)); }
  }
  async function pageProduct(id) {
    const p = await api('GET', `/api/products/${id}`);
    view(p.name, `<div class="detail">${img(p)}<div class="stack">
      <p class="price">${money(p.price, p.currency)}</p>
      <p>${h(p.description)}</p>
      <p class="muted">Category: <a href="#/?category=${encodeURIComponent(p.category)}">${h(p.category)}</a> · ${p.stock > 0 ? `${p.stock} in stock` : 'Out of stock'}</p>
      ${p.stock > 0 ? `<form id="add"><label for="n">Quantity</label><input id="n" name="n" type="number" min="1" max="99" value="1" class="qty"> <button type="submit">Add to cart</button></form>` : ''}
      ${isAdmin() ? `<p><a href="#/admin/products/${p.id}">Edit this product</a></p>` : ''}
      <p><a href="#/">← Back to products</a></p></div></div>`);
    const f = document.getElementById('add');
    if (f) f.onsubmit = (e) => { e.preventDefault(); busy(f.querySelector('button'), () => addToCart(p.id, p.name, Math.max(1, +f.n.value || 1))); };
  }
  function pageSignIn(params) {
    view('Sign in', `<form id="f" class="narrow">
      <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
      <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <div id="err"></div><p><button type="submit">Sign in</button></p>
      <p>New here? <a href="#/signup">Create an account</a></p></form>`);
    const f = document.getElementById('f');
    f.onsubmit = (e) => {
      e.preventDefault();
      busy(f.querySelector('button'), async () => {
        try {
          setSession(await api('POST', '/api/users/login', formData(f), { auth: false }));
          await whoAmI();
          flash('');
          go(params.get('next') || '#/');
        } catch (err) { document.getElementById('err').innerHTML = errorHtml(err); }
      });
    };
  }
  function pageSignUp() {
    view('Create an account', `<form id="f" class="narrow">
      <label for="name">Name</label><input id="name" name="name" autocomplete="name" required>
      <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
      <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required aria-describedby="pwhint">
      <p id="pwhint" class="muted">At least 10 characters.</p>
      <div id="err"></div><p><button type="submit">Create account</button></p></form>`);
    const f = document.getElementById('f');
    f.onsubmit = (e) => {
      e.preventDefault();
      busy(f.querySelector('button'), async () => {
        const d = formData(f);
        try {
          await api('POST', '/api/users/register', d, { auth: false });
          setSession(await api('POST', '/api/users/login', { email: d.email, password: d.password }, { auth: false }));
          await whoAmI();
          flashOk(`Welcome, ${d.name}! Your account is ready.`, true);
          go('#/');
        } catch (err) { document.getElementById('err').innerHTML = errorHtml(err); }
      });
    };
  }
  const cartTable = (cart, editable) => `<table><caption class="muted" style="text-align:left">Your cart</caption>
    <thead><tr><th scope="col">Product</th><th scope="col" class="num">Price</th><th scope="col">Quantity</th><th scope="col" class="num">Total</th>${editable ? '<th scope="col"><span class="muted">Remove</span></th>' : ''}</tr></thead>
    <tbody>${cart.items.map((i) => `<tr data-id="${i.product_id}"><td><a href="#/p/${i.product_id}">${h(i.name)}</a></td><td class="num">${money(i.price, i.currency || cart.currency)}</td>
      <td>${editable ? `<label class="sr" for="q${i.product_id}" style="position:absolute;left:-999px">Quantity of ${h(i.name)}</label><input id="q${i.product_id}" class="qty" type="number" min="1" max="99" value="${i.quantity}" data-id="${i.product_id}">` : i.quantity}</td>
      <td class="num">${money(i.line_total, i.currency || cart.currency)}</td>${editable ? `<td><button type="button" class="sec rm" data-id="${i.product_id}" aria-label="Remove ${h(i.name)}">Remove</button></td>` : ''}</tr>`).join('')}</tbody>
    <tfoot><tr><th scope="row" colspan="3">Total</th><td class="num" id="total"><b>${h(totalsText(cart))}</b></td>${editable ? '<td></td>' : ''}</tr></tfoot></table>`;
  async function pageCart() {
    const cart = await api('GET', '/api/cart');
    if (!cart.items.length) { view('Your cart', '<p>Your cart is empty. <a href="#/">Browse products</a></p>'); return; }
    view('Your cart', `<div id="err"></div>${cartTable(cart, true)}<p style="margin-top:1rem"><a class="btn" href="#/checkout">Checkout</a></p>`);
    const err = document.getElementById('err');
    main.querySelectorAll('input.qty').forEach((inp) => {
      inp.onchange = async () => {
        const n = parseInt(inp.value, 10);
        try {
          if (n >= 1 && n <= 99) await api('PUT', `/api/cart/items/${inp.dataset.id}`, { quantity: n });
          else throw new ApiError(422, 'validation_failed', 'quantity must be between 1 and 99', '');
          await pageCart();
          const again = document.getElementById('q' + inp.dataset.id);
          if (again) again.focus();
        } catch (e) { err.innerHTML = errorHtml(e); }
      };
    });
    main.querySelectorAll('button.rm').forEach((b) => {
      b.onclick = () => busy(b, async () => {
        try { await api('DELETE', `/api/cart/items/${b.dataset.id}`); await pageCart(); } catch (e) { err.innerHTML = errorHtml(e); }
      });
    });
  }
  // One checkout attempt = one Idempotency-Key; retried with the same key after a network
  // failure or a 5xx, replaced once the API has given a definite answer.
  let attempt = null;
  async function pageCheckout() {
    const cart = await api('GET', '/api/cart');
    if (!cart.items.length) { view('Checkout', '<p>Your cart is empty. <a href="#/">Browse products</a></p>'); return; }
    view('Checkout', `${cartTable(cart, false)}
      <form id="f" class="narrow"><label for="card">Test card</label>
      <select id="card" name="card"><option value="tok_ok">Test card — approved (tok_ok)</option>
      <option value="tok_declined">Test card — declined (tok_declined)</option>
      <option value="tok_timeout">Test card — bank does not answer (tok_timeout)</option></select>
      <div id="err"></div><p><button type="submit">Place order — ${h(totalsText(cart))}</button></p></form>`);
    const f = document.getElementById('f');
    f.onsubmit = (e) => {
      e.preventDefault();
      const err = document.getElementById('err');
      err.innerHTML = '';
      const body = { payment: { card_token: f.card.value } };
      if (!attempt || attempt.card !== f.card.value) attempt = { key: hex(16), card: f.card.value };
      busy(f.querySelector('button'), async () => {
        try {
          const r = await api('POST', '/api/orders', body, { full: true, headers: { 'Idempotency-Key': attempt.key } });
          attempt = null;
          flashOk(r.status === 202 ? `Order #${r.data.id} placed: we are waiting for the bank to confirm the payment.` : `Thank you! Order #${r.data.id} is paid.`, true);
          go(`#/orders/${r.data.id}`);
        } catch (ex) {
          if (!(ex.status === 0 || ex.status >= 500)) attempt = null;
          err.innerHTML = errorHtml(ex);
          err.querySelector('[role=alert]').focus?.();
        }
      });
    };
  }
  const statusBadge = (s) => `<span class="status ${h(s)}">${h(s)}</span>`;
  async function pageOrders(params) {
    const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
    const list = await api('GET', '/api/orders' + qs({ page, size: 20 }));
    view('Your orders', list.items.length ? `<table id="orders"><thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col" class="num">Total</th></tr></thead>
      <tbody>${list.items.map((o) => `<tr><td><a href="#/orders/${o.id}">Order #${o.id}</a></td><td>${when(o.created_at)}</td><td>${statusBadge(o.status)}</td><td class="num">${money(o.total, o.currency)}</td></tr>`).join('')}</tbody></table>
      ${pager('#/orders', {}, page, list.size, list.total)}` : '<p>No orders yet. <a href="#/">Start shopping</a></p>');
  }
  let pollTimer = 0;
  async function pageOrder(id) {
    const o = await api('GET', `/api/orders/${id}`);
    view(`Order #${o.id}`, `<p>Status: <span id="order-status">${statusBadge(o.status)}</span> · placed ${when(o.created_at)}${o.payment_id ? ` · payment #${o.payment_id}` : ''}</p>
      ${o.status === 'pending' ? '<p class="muted" id="wait">Waiting for the bank to confirm the payment… this page updates by itself.</p>' : ''}
      ${cartTable(o, false).replace('Your cart', 'Items')}
      <div id="err"></div>
      ${o.status === 'paid' ? '<p><button type="button" id="cancel" class="sec">Cancel order and refund</button></p>' : ''}
      <h2>History</h2><ol>${(o.status_history || []).map((s) => `<li>${statusBadge(s.status)} ${when(s.at)}</li>`).join('')}</ol>
      <p><a href="#/orders">← All orders</a></p>`);
    const c = document.getElementById('cancel');
    if (c) c.onclick = () => busy(c, async () => {
      try { await api('POST', `/api/orders/${o.id}/cancel`); flashOk(`Order #${o.id} is cancelled; the payment is refunded.`); await pageOrder(id); } catch (e) { document.getElementById('err').innerHTML = errorHtml(e); }
    });
    if (o.status === 'pending') {
      const here = location.hash;
      pollTimer = setTimeout(() => { if (location.hash === here) pageOrder(id).catch((e) => flash(errorHtml(e))); }, 2000);
    }
  }

  // --- admin ---------------------------------------------------------------------------------------
  const adminNav = '<p><a href="#/admin">Overview</a> · <a href="#/admin/products">Products</a> · <a href="#/admin/products/new">New product</a> · <a href="#/admin/orders">Orders</a></p>';
  async function pageAdmin() {
    const s = await api('GET', '/api/admin/stats');
    view('Admin', `${adminNav}<ul class="stats"><li>Users<b>${s.users}</b></li><li>Products<b>${s.products}</b></li>${Object.entries(s.revenue || {}).map(([cur, n]) => `<li>Revenue (${h(cur)})<b>${money(n, cur)}</b></li>`).join('') || '<li>Revenue<b>—</b></li>'}
      ${Object.entries(s.orders_by_status).map(([k, v]) => `<li>Orders ${h(k)}<b>${v}</b></li>`).join('')}</ul>`);
  }
  async function pageAdminProducts(params) {
    const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
    const list = await api('GET', '/api/products' + qs({ page, size: 50, sort: 'newest' }));
    view('Admin: products', `${adminNav}<table><thead><tr><th scope="col">Product</th><th scope="col">Category</th><th scope="col" class="num">Price</th><th scope="col" class="num">Stock</th></tr></thead>
      <tbody>${list.items.map((p) => `<tr><td><a href="#/admin/products/${p.id}">${h(p.name)}</a></td><td>${h(p.category)}</td><td class="num">${money(p.price, p.currency)}</td><td class="num">${p.stock}</td></tr>`).join('')}</tbody></table>
      ${pager('#/admin/products', {}, page, list.size, list.total)}`);
  }
  async function pageAdminProduct(id) {
    const p = id ? await api('GET', `/api/products/${id}`) : { name: '', description: '', price: '', stock: 0, category: '', image_url: '', currency: 'KRW' };
    const field = (n, label, type = 'text', extra = '') => `<label for="${n}">${label}</label><input id="${n}" name="${n}" type="${type}" value="${h(p[n] ?? '')}" ${extra}>`;
    view(id ? `Edit: ${p.name}` : 'New product', `${adminNav}<form id="f" class="narrow">
      ${field('name', 'Name', 'text', 'required')}
      <label for="description">Description</label><textarea id="description" name="description" rows="3">${h(p.description)}</textarea>
      ${field('price', 'Price (in the minor unit of the currency: won, cents, …)', 'number', 'min="0" max="100000000000" step="1" required')}
      ${field('currency', 'Currency (ISO 4217)', 'text', 'pattern="[A-Z]{3}" maxlength="3" required')}
      ${id ? '' : field('stock', 'Stock', 'number', 'min="0" step="1" required')}
      ${field('category', 'Category', 'text', 'required')}
      ${field('image_url', 'Image path (optional)', 'text', 'placeholder="/images/products/name.svg"')}
      <div id="err"></div><p><button type="submit">${id ? 'Save' : 'Create product'}</button></p></form>
      ${id ? `<h2>Stock: <span id="stock">${p.stock}</span></h2><form id="sf" class="narrow"><label for="delta">Change stock by (negative to remove)</label>
      <input id="delta" name="delta" type="number" step="1" required> <button type="submit">Apply</button><div id="serr"></div></form>` : ''}`);
    const f = document.getElementById('f');
    f.onsubmit = (e) => {
      e.preventDefault();
      const d = formData(f);
      const body = { name: d.name, description: d.description, price: +d.price, currency: d.currency, category: d.category };
      if (!id) body.stock = +d.stock;
      if (d.image_url) body.image_url = d.image_url;
      busy(f.querySelector('button'), async () => {
        try {
          const saved = await api(id ? 'PUT' : 'POST', id ? `/api/products/${id}` : '/api/products', body);
          categories = null;
          flashOk(`Saved “${saved.name}”.`, true);
          go(`#/admin/products/${saved.id}`);
        } catch (ex) { document.getElementById('err').innerHTML = errorHtml(ex); }
      });
    };
    const sf = document.getElementById('sf');
    if (sf) sf.onsubmit = (e) => {
      e.preventDefault();
      busy(sf.querySelector('button'), async () => {
        try {
          const r = await api('PATCH', `/api/products/${id}/stock`, { delta: parseInt(sf.delta.value, 10) });
          p.stock = r.stock;
          document.getElementById('stock').textContent = r.stock;
          document.getElementById('serr').innerHTML = `<div class="alert ok"><p>Stock is now ${r.stock}.</p></div>`;
          sf.reset();
        } catch (ex) { document.getElementById('serr').innerHTML = errorHtml(ex); }
      });
    };
  }
  async function pageAdminOrders(params) {
    const page = Math.max(1, parseInt(params.get('page'), 10) || 1);
    const status = params.get('status') || '';
    const list = await api('GET', '/api/admin/orders' + qs({ status, page, size: 50 }));
    view('Admin: orders', `${adminNav}<form id="of" class="filters"><div><label for="status">Status</label><select id="status" name="status"><option value="">All</option>${
      ['pending', 'paid', 'cancelled', 'failed'].map((s) => `<option${s === status ? ' selected' : ''}>${s}</option>`).join('')}</select></div></form>
      <table><thead><tr><th scope="col">Order</th><th scope="col">Customer</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col" class="num">Total</th></tr></thead>
      <tbody>${list.items.map((o) => `<tr><td>#${o.id}</td><td>${h(o.user_id ?? '')}</td><td>${when(o.created_at)}</td><td>${statusBadge(o.status)}</td><td class="num">${money(o.total, o.currency)}</td></tr>`).join('')}</tbody></table>
      ${pager('#/admin/orders', { status }, page, list.size, list.total)}`);
    const of = document.getElementById('of');
    of.status.onchange = () => go('#/admin/orders' + qs({ status: of.status.value }));
  }

  // --- router ---------------------------------------------------------------------------------------
  async function route() {
    clearTimeout(pollTimer);
    const raw = location.hash.slice(1) || '/';
    const [path, query] = raw.split('?');
    const params = new URLSearchParams(query || '');
    if (needsAuth(location.hash) && !session) { go('#/signin' + qs({ next: location.hash })); return; }
    if (path.startsWith('/admin') && !isAdmin()) { view('Not available', '<p>This area is for administrators.</p>'); return; }
    let m;
    try {
      if (path === '/') await pageProducts(params);
      else if ((m = path.match(/^\/p\/(\d+)$/))) await pageProduct(m[1]);
      else if (path === '/signin') pageSignIn(params);
      else if (path === '/signup') pageSignUp();
      else if (path === '/cart') await pageCart();
      else if (path === '/checkout') await pageCheckout();
      else if (path === '/orders') await pageOrders(params);
      else if ((m = path.match(/^\/orders\/(\d+)$/))) await pageOrder(m[1]);
      else if (path === '/admin') await pageAdmin();
      else if (path === '/admin/products') await pageAdminProducts(params);
      else if (path === '/admin/products/new') await pageAdminProduct(null);
      else if ((m = path.match(/^\/admin\/products\/(\d+)$/))) await pageAdminProduct(m[1]);
      else if (path === '/admin/orders') await pageAdminOrders(params);
      else view('Page not found', '<p>There is nothing here. <a href="#/">Go to the products</a></p>');
    } catch (e) {
      view('Something went wrong', errorHtml(e) + '<p><a href="#/">Go to the products</a></p>');
      if (e.status === 401) { setSession(null); }
    }
    const h1 = main.querySelector('h1');
    if (h1 && !main.contains(document.activeElement)) h1.focus();
  }
  window.addEventListener('hashchange', () => {
    // A message shown just before this navigation (e.g. "order placed") stays; older ones go.
    if (flashBox.dataset.carry) flashBox.dataset.carry = ''; else flash('');
    route();
  });

  // --- start ------------------------------------------------------------------------------------------
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (saved && saved.access_token) {
      setSession(saved);
      // An access token that has already expired is refreshed before the first call.
      if (session.exp - Date.now() < 60000) refresh().catch(() => {});
    }
  } catch (_) { sessionStorage.removeItem(KEY); }
  renderNav();
  route();
})();
