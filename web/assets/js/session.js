// The signed-in session: tokens kept in sessionStorage, refreshed before they expire. The
// only mutable copy of it lives here; other modules read it through the functions below.
import { ApiError, errorHtml, flash } from './errors.js';
import { send } from './http.js';

const KEY = 'mall.session';
let session = null; // {access, refresh, exp (ms), claims, name}
let refreshTimer = 0;
let refreshing = null;
let changed = () => {};

const decode = (jwt) => {
  try {
    const b = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(b + '==='.slice((b.length + 3) % 4)))));
  } catch (_) { return {}; }
};

export const signedIn = () => session !== null;
export const isAdmin = () => !!(session && Array.isArray(session.claims.roles) && session.claims.roles.includes('admin'));
export const userName = () => (session ? session.name : '');
export const accessToken = () => (session ? session.access : '');
// Milliseconds until the access token expires (only meaningful when signed in).
export const msLeft = () => (session ? session.exp - Date.now() : 0);
// The pages a visitor must be signed in to see.
export const needsAuth = (hash) => /^#\/(cart|checkout|orders|admin)/.test(hash || '');
// main.js redraws the navigation on every change (sign in, refresh, new name, sign out).
export const onChange = (fn) => { changed = fn; };

export function setSession(tok) {
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
  changed();
}

// The name comes from /api/users/me after sign-in; the tokens stay as they are.
export function setName(name) {
  if (!session) return;
  session.name = name;
  setSession({ access_token: session.access, refresh_token: session.refresh, name });
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!session) return;
  // Refresh a minute before expiry (or at 80 % of a short lifetime).
  const left = session.exp - Date.now();
  const wait = Math.max(0, Math.min(left - 60000, left * 0.8));
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

export function refresh() {
  if (!session) return Promise.reject(new ApiError(401, 'unauthorized', '', ''));
  if (refreshing) return refreshing;
  refreshing = send('POST', '/api/users/refresh', { refresh_token: session.refresh })
    .then((tok) => { setSession(tok); return tok; })
    .catch((e) => {
      // A refresh the server refused ends the session; a network blip is retried shortly.
      if (e.status === 401 || e.status === 400 || e.status === 422) {
        setSession(null);
        flash(errorHtml(new ApiError(e.status, 'token_expired', '', e.traceId)), true);
        // A page that needs a session is never #/signin, so this always navigates.
        if (needsAuth(location.hash)) location.hash = '#/signin';
      } else if (session) {
        refreshTimer = setTimeout(() => refresh().catch(() => {}), 5000);
      }
      throw e;
    })
    .finally(() => { refreshing = null; });
  return refreshing;
}

// The session of this tab survives a reload (sessionStorage: closing the tab ends it).
export function restoreSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (saved && saved.access_token) {
      setSession(saved);
      // An access token that has already expired is refreshed before the first call.
      if (msLeft() < 60000) refresh().catch(() => {});
    }
  } catch (_) { sessionStorage.removeItem(KEY); }
}
