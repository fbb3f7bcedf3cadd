// One exchange with the public API (/api/ through nginx): the answer's JSON, or an ApiError
// with the API's code and trace id. It knows no session (the caller passes the access token),
// so session.js can refresh through it while api.js, which adds the session, imports
// session.js: no import loop.
import { ApiError } from './errors.js';

export async function send(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers.Authorization = 'Bearer ' + opts.token;
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
