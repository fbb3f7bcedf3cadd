// The shopper's orders (#/orders) and one order (#/orders/<id>: status, items, history,
// cancel and refund).
import { api } from './api.js';
import { errorHtml, flash, flashOk } from './errors.js';
import { cartTable } from './cart.js';
import { busy, pageParam, pager, view } from './page.js';
import { h, money, qs, when } from './util.js';

export const statusBadge = (s) => `<span class="status ${h(s)}">${h(s)}</span>`;
export async function pageOrders(params) {
  const page = pageParam(params);
  const list = await api('GET', '/api/orders' + qs({ page, size: 20 }));
  view('Your orders', list.items.length ? `<table id="orders"><thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col" class="num">Total</th></tr></thead>
    <tbody>${list.items.map((o) => `<tr><td><a href="#/orders/${o.id}">Order #${o.id}</a></td><td>${when(o.created_at)}</td><td>${statusBadge(o.status)}</td><td class="num">${money(o.total, o.currency)}</td></tr>`).join('')}</tbody></table>
    ${pager('#/orders', {}, page, list.size, list.total)}` : '<p>No orders yet. <a href="#/">Start shopping</a></p>');
}
// A pending order's page polls until the bank has answered; leaving the page stops it.
let pollTimer = 0;
export const stopPolling = () => clearTimeout(pollTimer);

export async function pageOrder(id) {
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
