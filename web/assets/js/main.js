// The Mall storefront: vanilla JS modules, hash routing, only the public API (/api/ through
// nginx). This module starts it: the navigation, the router and the session saved in this
// tab. One module per view (catalog, product, account, cart, orders, admin) renders into
// <main>; session.js holds the session, api.js calls the API with it, errors.js words
// failures for shoppers, page.js and util.js are what every view shares.
import { pageSignIn, pageSignUp, signOut } from './account.js';
import { pageAdmin, pageAdminOrders, pageAdminProduct, pageAdminProducts } from './admin.js';
import { pageCart, pageCheckout } from './cart.js';
import { pageProducts } from './catalog.js';
import { errorHtml, flashNavigated } from './errors.js';
import { pageOrder, pageOrders, stopPolling } from './orders.js';
import { go, main, setRouter, view } from './page.js';
import { pageProduct } from './product.js';
import { isAdmin, needsAuth, onChange, restoreSession, setSession, signedIn, userName } from './session.js';
import { PLACEHOLDER, h, qs } from './util.js';

// A missing product picture falls back to the placeholder (capture: error events do not bubble).
document.addEventListener('error', (e) => {
  const t = e.target;
  if (t && t.tagName === 'IMG' && !t.dataset.fallback) { t.dataset.fallback = '1'; t.src = PLACEHOLDER; }
}, true);

// --- navigation -------------------------------------------------------------------------------
function renderNav() {
  const links = ['<a href="#/">Products</a>'];
  if (signedIn()) {
    links.push('<a href="#/cart">Cart</a>', '<a href="#/orders">Orders</a>');
    if (isAdmin()) links.push('<a href="#/admin">Admin</a>');
    links.push(`<span class="muted" id="who">${h(userName() || 'Signed in')}${isAdmin() ? ' (admin)' : ''}</span>`, '<button type="button" class="link" id="signout">Sign out</button>');
  } else {
    links.push('<a href="#/signin">Sign in</a>', '<a href="#/signup">Create account</a>');
  }
  document.getElementById('nav').innerHTML = links.join('');
  const so = document.getElementById('signout');
  if (so) so.onclick = signOut;
}

// --- router ---------------------------------------------------------------------------------------
// One navigation at a time, in order: a page still loading (a slow catalog) finishes before
// the next one renders, so it can never draw over the page navigated to since (each render
// reads the hash when its turn comes).
let routing = Promise.resolve();
function route() {
  routing = routing.then(render, render);
  return routing;
}

async function render() {
  stopPolling();
  const raw = location.hash.slice(1) || '/';
  const [path, query] = raw.split('?');
  const params = new URLSearchParams(query || '');
  if (needsAuth(location.hash) && !signedIn()) { go('#/signin' + qs({ next: location.hash })); return; }
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
setRouter(route);
window.addEventListener('hashchange', () => {
  // A message shown just before this navigation (e.g. "order placed") stays; older ones go.
  flashNavigated();
  route();
});

// --- start ------------------------------------------------------------------------------------------
onChange(renderNav);
restoreSession();
renderNav();
route();
