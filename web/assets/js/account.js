// Signing in, signing up and signing out (#/signin, #/signup, the navigation's button).
import { api, request } from './api.js';
import { errorHtml, flash, flashOk } from './errors.js';
import { busy, formData, go, view } from './page.js';
import { setName, setSession } from './session.js';

// The navigation shows the shopper's name, which the tokens do not carry.
async function whoAmI() {
  try { const me = await api('GET', '/api/users/me'); setName(me.name); } catch (_) { /* the name is decoration */ }
}
export async function signOut() {
  try { await request('POST', '/api/users/logout', undefined); } catch (_) { /* signed out locally anyway */ }
  setSession(null);
  flashOk('You are signed out.', true);
  go('#/');
}

// --- views ---------------------------------------------------------------------------------
export function pageSignIn(params) {
  view('Sign in', `<form id="f" class="narrow">
    <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
    <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    <div id="err"></div><p><button type="submit">Sign in</button></p>
    <p>New here? <a href="#/signup">Create an account</a></p></form>`);
  const f = document.getElementById('f');
  f.onsubmit = (e) => {
    e.preventDefault();
    busy(f.querySelector('button'), async () => {
      try {
        setSession(await api('POST', '/api/users/login', formData(f), { auth: false }));
        await whoAmI();
        flash('');
        go(params.get('next') || '#/');
      } catch (err) { document.getElementById('err').innerHTML = errorHtml(err); }
    });
  };
}
export function pageSignUp() {
  view('Create an account', `<form id="f" class="narrow">
    <label for="name">Name</label><input id="name" name="name" autocomplete="name" required>
    <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required>
    <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required aria-describedby="pwhint">
    <p id="pwhint" class="muted">At least 10 characters.</p>
    <div id="err"></div><p><button type="submit">Create account</button></p></form>`);
  const f = document.getElementById('f');
  f.onsubmit = (e) => {
    e.preventDefault();
    busy(f.querySelector('button'), async () => {
      const d = formData(f);
      try {
        await api('POST', '/api/users/register', d, { auth: false });
        setSession(await api('POST', '/api/users/login', { email: d.email, password: d.password }, { auth: false }));
        await whoAmI();
        flashOk(`Welcome, ${d.name}! Your account is ready.`, true);
        go('#/');
      } catch (err) { document.getElementById('err').innerHTML = errorHtml(err); }
    });
  };
}
