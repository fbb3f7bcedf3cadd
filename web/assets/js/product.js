// One product (#/p/<id>): picture, description, stock and a quantity to add to the cart.
import { api } from './api.js';
import { addToCart } from './cart.js';
import { busy, view } from './page.js';
import { isAdmin } from './session.js';
import { h, img, money } from './util.js';

export async function pageProduct(id) {
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
