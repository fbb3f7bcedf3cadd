// Calls to the public API as the signed-in shopper: the access token is attached, refreshed
// when it is about to expire or the API says it has, and dropped when the API refuses it.
// opts: auth (false: send no token), headers, full ({status, data, trace} instead of data).
import { send } from './http.js';
import { accessToken, msLeft, refresh, setSession, signedIn } from './session.js';

// One exchange with the session's token as it is (no refresh, no retry).
export function request(method, path, body, opts = {}) {
  const token = opts.auth !== false && signedIn() ? accessToken() : '';
  return send(method, path, body, { ...opts, token });
}

export async function api(method, path, body, opts = {}) {
  if (signedIn() && opts.auth !== false && msLeft() < 5000) await refresh().catch(() => {});
  try {
    return await request(method, path, body, opts);
  } catch (e) {
    if (e.status === 401 && e.code === 'token_expired' && signedIn() && opts.auth !== false && !opts.retried) {
      await refresh();
      return api(method, path, body, { ...opts, retried: true });
    }
    if (e.status === 401 && signedIn() && opts.auth !== false && (e.code === 'token_revoked' || e.code === 'unauthorized')) {
      setSession(null);
    }
    throw e;
  }
}
