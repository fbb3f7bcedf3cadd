// The admin area (#/admin...): the numbers, the products (create, edit, change stock) and
// every customer's orders. The API decides who may; the router only hides it from others.
import { api } from './api.js';
import { forgetCategories } from './catalog.js';
import { errorHtml, flashOk } from './errors.js';
import { statusBadge } from './orders.js';
import { busy, formData, go, pageParam, pager, view } from './page.js';
import { h, money, qs, when } from './util.js';

const adminNav = '<p><a href="#/admin">Overview</a> · <a href="#/admin/products">Products</a> · <a href="#/admin/products/new">New product</a> · <a href="#/admin/orders">Orders</a></p>';
export async function pageAdmin() {
  const s = await api('GET', '/api/admin/stats');
  view('Admin', `${adminNav}<ul class="stats"><li>Users<b>${s.users}</b></li><li>Products<b>${s.products}</b></li>${Object.entries(s.revenue || {}).map(([cur, n]) => `<li>Revenue (${h(cur)})<b>${money(n, cur)}</b></li>`).join('') || '<li>Revenue<b>—</b></li>'}
    ${Object.entries(s.orders_by_status).map(([k, v]) => `<li>Orders ${h(k)}<b>${v}</b></li>`).join('')}</ul>`);
}
export async function pageAdminProducts(params) {
  const page = pageParam(params);
  const list = await api('GET', '/api/products' + qs({ page, size: 50, sort: 'newest' }));
  view('Admin: products', `${adminNav}<table><thead><tr><th scope="col">Product</th><th scope="col">Category</th><th scope="col" class="num">Price</th><th scope="col" class="num">Stock</th></tr></thead>
    <tbody>${list.items.map((p) => `<tr><td><a href="#/admin/products/${p.id}">${h(p.name)}</a></td><td>${h(p.category)}</td><td class="num">${money(p.price, p.currency)}</td><td class="num">${p.stock}</td></tr>`).join('')}</tbody></table>
    ${pager('#/admin/products', {}, page, list.size, list.total)}`);
}
export async function pageAdminProduct(id) {
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
        forgetCategories();
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
export async function pageAdminOrders(params) {
  const page = pageParam(params);
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
