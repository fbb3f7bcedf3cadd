// Pure helpers every view uses: escaping, money, dates, query strings, product pictures.
// Nothing here touches the session or the page.

export const PLACEHOLDER = '/images/products/placeholder.svg';

export const h = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// Amounts are integers in their currency's minor unit (cents for USD, won for KRW, which
// has none): shown in that currency, with its own number of decimals. Every amount the
// API sends is below 2^53, so it is exact as a JS number.
export const money = (minor, cur) => {
  const currency = cur || 'KRW';
  try {
    const fmt = new Intl.NumberFormat('en', { style: 'currency', currency });
    const digits = fmt.resolvedOptions().maximumFractionDigits;
    return fmt.format(Number(minor) / 10 ** digits);
  } catch (_) { return `${minor} ${currency} (minor units)`; }
};

// One total per currency (a cart a catalog change left holding two has no single total).
export const totalsText = (c) => (c.total != null ? money(c.total, c.currency) : (c.totals || []).map((t) => money(t.total, t.currency)).join(' + '));

export const when = (t) => (t ? new Date(t).toLocaleString() : '');

export const hex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, '0')).join('');

// Only a same-origin path is used as a picture; anything else shows the placeholder.
const imgSrc = (p) => (p && typeof p.image_url === 'string' && p.image_url.startsWith('/') && !p.image_url.startsWith('//') ? p.image_url : PLACEHOLDER);
export const img = (p, cls) => `<img src="${h(imgSrc(p))}" alt="" width="320" height="240" loading="lazy"${cls ? ` class="${cls}"` : ''}>`;

// A query string of the non-empty parameters ('' when there are none).
export const qs = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
};
