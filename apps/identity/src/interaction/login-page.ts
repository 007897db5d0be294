import { escapeHtml, page } from '../oidc/html';

interface LoginPageModel {
  uid: string;
  clientName: string;
  email?: string;
  error?: string;
}

/** The login form: plain HTML, works without JavaScript. */
export function renderLoginPage(m: LoginPageModel): string {
  const uid = escapeHtml(m.uid);
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p class="muted">to continue to <strong>${escapeHtml(m.clientName)}</strong></p>
${m.error ? `<p class="error" role="alert" id="login-error">${escapeHtml(m.error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="on" novalidate>
  <label for="email">E-mail address</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(m.email ?? '')}"${
    m.error ? ' aria-describedby="login-error"' : ''
  } autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit" style="background:#6b7280">Cancel</button></form>`,
  );
}
