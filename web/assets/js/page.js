// What every view does with the page: show itself in <main>, page through a list, move to
// another view, and keep a button disabled while its request runs.
import { h, qs } from './util.js';

export const main = document.getElementById('main');

// main.js registers its router here, so views can navigate without importing main.js
// (which imports them).
let route = () => {};
export const setRouter = (fn) => { route = fn; };

// Moving to the hash already shown renders it again (no hashchange would fire).
export const go = (hash) => { if (location.hash === hash) route(); else location.hash = hash; };

export const view = (title, html) => {
  document.title = title + ' — Mall';
  main.innerHTML = `<h1 tabindex="-1">${h(title)}</h1>${html}`;
};

export const pager = (base, params, page, size, total) => {
  const pages = Math.max(1, Math.ceil(total / size));
  return `<nav class="pager" aria-label="Pages">${page > 1 ? `<a href="${base}${qs({ ...params, page: page - 1 })}" rel="prev">← Previous</a>` : ''}
      <span>Page ${page} of ${pages} (${total} in all)</span>${page < pages ? `<a href="${base}${qs({ ...params, page: page + 1 })}" rel="next">Next →</a>` : ''}</nav>`;
};

// The page number in a list view's query (1 when missing or not a number).
export const pageParam = (params) => Math.max(1, parseInt(params.get('page'), 10) || 1);

export const busy = async (btn, fn) => { btn.disabled = true; try { return await fn(); } finally { btn.disabled = false; } };
export const formData = (form) => Object.fromEntries(new FormData(form).entries());
