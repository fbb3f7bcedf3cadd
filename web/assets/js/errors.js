// Errors in a shopper's words: the API's error codes, the ApiError every call throws, and
// the flash box under the header where messages that outlive a view are shown.
import { h } from './util.js';

const flashBox = document.getElementById('flash');

const WORDS = {
  bad_request: 'Something in that request was not understood. Please check the form and try again.',
  unknown_field: 'Something in that request was not understood. Please check the form and try again.',
  validation_failed: 'Some of the details are not valid',
  invalid_idempotency_key: 'Your order could not be submitted. Please try again.',
  unauthorized: 'Please sign in to continue.',
  token_expired: 'Your session has expired. Please sign in again.',
  token_revoked: 'You have been signed out. Please sign in again.',
  invalid_credentials: 'That email and password do not match an account.',
  payment_declined: 'Your card was declined. No money was taken. Please try another card.',
  forbidden: 'You do not have permission to do that.',
  not_found: 'We could not find that. It may have been removed.',
  method_not_allowed: 'That action is not available.',
  email_taken: 'An account with this email already exists. Try signing in instead.',
  out_of_stock: 'Sorry, there is not enough stock for something in your order. Nothing was charged.',
  insufficient_stock: 'The stock cannot go below zero.',
  stock_limit_exceeded: 'The stock cannot go above its maximum.',
  currency_mismatch: 'Your cart holds products priced in another currency. Check out or empty your cart before adding this one.',
  idempotency_key_reused: 'This order was already submitted with different contents. Please try again.',
  order_not_cancellable: 'This order can no longer be cancelled (only paid orders can be).',
  payload_too_large: 'That is too much text. Please shorten it.',
  uri_too_long: 'That search is too long. Please shorten it.',
  unsupported_media_type: 'Something went wrong sending your request. Please try again.',
  cart_empty: 'Your cart is empty. Add something before checking out.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  internal_error: 'Something went wrong on our side. Please try again in a moment.',
  bad_gateway: 'Part of the shop is not responding right now. Please try again in a moment.',
  service_unavailable: 'The shop is busy or under maintenance. Please try again in a moment.',
  gateway_timeout: 'The shop took too long to answer. Please try again in a moment.',
  network: 'We could not reach the shop. Check your connection and try again.',
};

export class ApiError extends Error {
  constructor(status, code, message, traceId) { super(message); this.status = status; this.code = code; this.traceId = traceId; }
}

const words = (e) => {
  if (!(e instanceof ApiError)) return 'Something went wrong. Please reload the page.';
  let w = WORDS[e.code] || (e.status >= 500 ? WORDS.internal_error : 'Something went wrong. Please try again.');
  // Validation messages from the API are written for people ("password must be at least 10 characters").
  if (e.code === 'validation_failed' && e.message) w += ': ' + e.message.replace(/\.$/, '') + '.';
  else if (e.code === 'validation_failed') w += '.';
  return w;
};

export const errorHtml = (e) => `<div class="alert error" role="alert" data-code="${h(e.code || '')}"><p>${h(words(e))}</p>${
  e.traceId ? `<p class="ref">Support reference: <code class="trace-id">${h(e.traceId)}</code></p>` : ''}</div>`;

// carry: the message is about to be followed by a navigation and should survive it once.
export const flash = (html, carry) => { flashBox.dataset.carry = carry ? '1' : ''; flashBox.innerHTML = html ? `<div style="max-width:64rem;margin:0 auto;padding:0 1.25rem">${html}</div>` : ''; };
export const flashOk = (msg, carry) => flash(`<div class="alert ok"><p>${h(msg)}</p></div>`, carry);

// A navigation drops the message shown before it, unless it was flashed to carry over.
export const flashNavigated = () => { if (flashBox.dataset.carry) flashBox.dataset.carry = ''; else flash(''); };
