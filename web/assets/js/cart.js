// The cart (#/cart: change a quantity, remove a line), adding to it, and the checkout
// (#/checkout: pick a test card, place the order).
import { api } from './api.js';
import { ApiError, errorHtml, flash, flashOk } from './errors.js';
import { busy, go, main, view } from './page.js';
import { signedIn } from './session.js';
import { h, hex, money, totalsText } from './util.js';

// The cart's lines; editable: quantity inputs and Remove buttons (the checkout and an
// order show it read-only).
export const cartTable = (cart, editable) => `<table><caption class="muted" style="text-align:left">Your cart</caption>
  <thead><tr><th scope="col">Product</th><th scope="col" class="num">Price</th><th scope="col">Quantity</th><th scope="col" class="num">Total</th>${editable ? '<th scope="col"><span class="muted">Remove</span></th>' : ''}</tr></thead>
  <tbody>${cart.items.map((i) => `<tr data-id="${i.product_id}"><td><a href="#/p/${i.product_id}">${h(i.name)}</a></td><td class="num">${money(i.price, i.currency || cart.currency)}</td>
    <td>${editable ? `<label class="sr" for="q${i.product_id}" style="position:absolute;left:-999px">Quantity of ${h(i.name)}</label><input id="q${i.product_id}" class="qty" type="number" min="1" max="99" value="${i.quantity}" data-id="${i.product_id}">` : i.quantity}</td>
    <td class="num">${money(i.line_total, i.currency || cart.currency)}</td>${editable ? `<td><button type="button" class="sec rm" data-id="${i.product_id}" aria-label="Remove ${h(i.name)}">Remove</button></td>` : ''}</tr>`).join('')}</tbody>
  <tfoot><tr><th scope="row" colspan="3">Total</th><td class="num" id="total"><b>${h(totalsText(cart))}</b></td>${editable ? '<td></td>' : ''}</tr></tfoot></table>`;
export async function pageCart() {
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

// From the catalog and the product page: adds n to what the cart already holds (at most 99).
export async function addToCart(id, name, n) {
  if (!signedIn()) { flashOk('Please sign in to add things to your cart.', true); go('#/signin'); return; }
  try {
    const cart = await api('GET', '/api/cart');
    const line = cart.items.find((i) => i.product_id === id);
    await api('PUT', `/api/cart/items/${id}`, { quantity: Math.min(99, (line ? line.quantity : 0) + n) });
    flash(`<div class="alert ok"><p>Added ${h(name)} to your cart. <a href="#/cart">View cart</a></p></div>`);
  } catch (e) { flash(errorHtml(e)); }
}

// One checkout attempt = one Idempotency-Key; retried with the same key after a network
// failure or a 5xx, replaced once the API has given a definite answer.
let attempt = null;
export async function pageCheckout() {
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
