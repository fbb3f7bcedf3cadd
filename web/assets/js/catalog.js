// The catalog (#/): search, category and sort, a page of product cards with "Add to cart".
import { api } from './api.js';
import { addToCart } from './cart.js';
import { busy, formData, go, main, pageParam, pager, view } from './page.js';
import { h, img, money, qs } from './util.js';

const SORTS = [['newest', 'Newest'], ['price_asc', 'Price: low to high'], ['price_desc', 'Price: high to low'], ['name', 'Name']];
// Fetched once per page load; an admin's save forgets it (admin.js) so a new category shows.
let categories = null;
export const forgetCategories = () => { categories = null; };

export async function pageProducts(params) {
  const page = pageParam(params);
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
