import type { DemoSettings } from './demo-config';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export interface PageState {
  /** The demo's own (server-side) session, ended by back-channel logout. */
  appUser: string | null;
  /** Milliseconds between SDK session checks (the `poll` query parameter; 0 = off); absent: the SDK's default. */
  pollInterval?: number;
  /** Milliseconds the SDK reuses a status (the `cache` query parameter); absent: the SDK's default. */
  cacheTtl?: number;
}

/** The demo page: the identity session as the SDK sees it, the events as they arrive, logout buttons. */
export function renderDemoPage(settings: DemoSettings, state: PageState): string {
  const sdkConfig = {
    server: settings.identityUrl,
    client_id: settings.clientId,
    redirect_uri: `${settings.baseUrl}/`,
    pollInterval: state.pollInterval,
    cacheTtl: state.cacheTtl,
  };
  const app = state.appUser ? `signed in as ${escapeHtml(state.appUser)}` : 'not signed in';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo application · SLO Coordinator</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #1d2433; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .4rem; }
  .box { border: 1px solid #ccd3e0; border-radius: 8px; padding: .8rem 1rem; }
  .state { font-weight: 600; }
  [data-state="logged-in"] { color: #0a7a35; } [data-state="logged-out"] { color: #a4262c; } [data-state="error"] { color: #8a5300; }
  button, .button { font: inherit; padding: .35rem .8rem; margin-right: .5rem; border-radius: 6px; border: 1px solid #5a6b8c;
    background: #f3f6fb; color: inherit; text-decoration: none; cursor: pointer; display: inline-block; }
  ol { padding-left: 1.5rem; font-family: ui-monospace, monospace; font-size: .9rem; }
  .muted { color: #5a6b8c; font-size: .9rem; }
</style>
</head>
<body>
<h1>Demo application</h1>
<p class="muted">Client <code>${escapeHtml(settings.clientId)}</code> of <code>${escapeHtml(settings.identityUrl)}</code>,
using the SPiD browser SDK. Open this page in two tabs and log out in one.</p>
<div class="box">
  <p>Identity session (SDK): <span id="status" class="state" data-state="checking">checking…</span></p>
  <p>This app's own session: <span id="app-session" class="state" data-state="${state.appUser ? 'logged-in' : 'logged-out'}">${app}</span></p>
  <p>
    <a id="login" class="button" href="/login">Log in</a>
    <button id="logout" type="button">Log out (SDK)</button>
    <a id="redirect-logout" class="button" href="#">Log out (redirect flow)</a>
  </p>
</div>
<h2>SDK events, as they arrive</h2>
<ol id="events"></ol>
<script id="demo-config" type="application/json">${scriptJson(sdkConfig)}</script>
<script src="${escapeHtml(settings.identityUrl)}/sdk/spid.js"></script>
<script src="/demo.js"></script>
</body>
</html>
`;
}

/** The page's script: subscribes to every SDK event, shows the status, wires the buttons. */
export const DEMO_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('demo-config').textContent);
  var statusEl = document.getElementById('status');
  var appEl = document.getElementById('app-session');
  var list = document.getElementById('events');
  var names = ['SPiD.sessionInit', 'SPiD.login', 'SPiD.logout', 'SPiD.userChange', 'SPiD.statusChange',
    'SPiD.sessionChange', 'SPiD.notLoggedin', 'SPiD.visitor', 'SPiD.error'];
  window.spidEvents = [];

  function show(el, state, text) { el.dataset.state = state; el.textContent = text; }
  function showStatus(status) {
    if (status && status.logged_in) show(statusEl, 'logged-in', 'logged in as ' + status.user_id);
    else show(statusEl, 'logged-out', 'not logged in');
  }

  // The app's own session ends when identity's back-channel logout reaches the demo server.
  var appCheck = 0;
  function refreshAppSession(attempts) {
    var run = ++appCheck;
    fetch('/me', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (me) {
      if (run !== appCheck) return;
      show(appEl, me.logged_in ? 'logged-in' : 'logged-out', me.logged_in ? 'signed in as ' + me.sub : 'not signed in');
      if (me.logged_in && attempts > 0) setTimeout(function () { refreshAppSession(attempts - 1); }, 500);
    });
  }

  names.forEach(function (name) {
    SPiD.event.subscribe(name, function (e) {
      window.spidEvents.push({ event: e.event, source: e.source, at: Date.now() });
      var li = document.createElement('li');
      li.textContent = new Date().toLocaleTimeString() + '  ' + e.event + '  (' + e.source + ')' +
        (e.error ? ': ' + e.error.message : '');
      list.appendChild(li);
      if (e.event === 'SPiD.error') show(statusEl, 'error', e.error.message);
      else showStatus(e.status);
      if (e.event === 'SPiD.logout') refreshAppSession(40); // up to 20 s for the back channel
    });
  });

  document.getElementById('logout').addEventListener('click', function () {
    SPiD.logout().catch(function () { /* shown through SPiD.error */ });
  });
  document.getElementById('redirect-logout').addEventListener('click', function (e) {
    e.preventDefault();
    SPiD.redirectLogout();
  });
  SPiD.init(config).catch(function (err) {
    if (err.code === 'invalid_options') show(statusEl, 'error', err.message); // others arrive as SPiD.error
  });
})();
`;
