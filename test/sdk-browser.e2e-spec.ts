import { startDemo, RunningDemo } from '../apps/demo/src/demo.app';
import { apiClient, freePort, registerClient, waitFor } from '@slo/testing';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { deliveredOf, LogoutStack, startLogoutStack } from './support/browser-logout';
import { RelyingParty, startRelyingParty } from './support/relying-party';
import { clearEvents, DemoBrowser, events, names, setVisibility, waitForEvent } from './support/sdk-demo';

const ARTIFACTS = join(__dirname, '..', 'test-results', 'sdk-browser');
const USER = { email: 'sam@example.com', password: 'sdk browser password', name: 'Sam' };
const LOGOUT_EVENTS = ['SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange'];
const FIRST_STATUS = ['SPiD.sessionInit', 'SPiD.statusChange', 'SPiD.notLoggedin', 'SPiD.visitor'];

describe('browser SDK in headless Chromium: demo app on one origin, identity on another', () => {
  let t: LogoutStack;
  let chromium: DemoBrowser;
  let demo: RunningDemo;
  /** The same demo page on an origin that is not a web origin of demo-app. */
  let foreign: RunningDemo;
  let other: RelyingParty;
  const logIn = (page: Page) => chromium.logIn(page, USER);

  beforeAll(async () => {
    t = await startLogoutStack(USER);
    const [demoPort, foreignPort] = [await freePort(), await freePort()];
    const demoUrl = `http://127.0.0.1:${demoPort}`;
    const registered = await registerClient(t.admin, null, 'demo-app', {
      redirect_uris: [`${demoUrl}/callback`],
      post_logout_redirect_uris: [`${demoUrl}/`],
      web_origins: [demoUrl],
      backchannel_logout_uri: `${demoUrl}/backchannel-logout`,
    });
    const settings = {
      baseUrl: demoUrl,
      port: demoPort,
      identityUrl: t.stack.identityUrl,
      clientId: 'demo-app',
      clientSecret: registered.client_secret,
      cookieSecret: 'demo-cookie-secret-for-the-sdk-browser-test',
    };
    demo = await startDemo(settings, '127.0.0.1');
    foreign = await startDemo({ ...settings, port: foreignPort }, '127.0.0.1');
    other = await startRelyingParty(t.admin, t.stack.identityUrl, 'other-app');
    chromium = await DemoBrowser.launch(t.stack.identityUrl, demo.url);
  });

  afterAll(async () => {
    await chromium?.close();
    for (const server of [demo, foreign, other]) await server?.close();
    await t?.stack.close();
  });

  it('identity serves the SDK as script, ES module and types: cacheable, versioned, pinned with SRI', async () => {
    const res = await fetch(`${t.stack.identityUrl}/sdk/spid.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const script = Buffer.from(await res.arrayBuffer());
    const version = res.headers.get('x-spid-sdk-version');
    expect(script.toString()).toContain(`SPiD browser SDK ${version}`);

    const identity = apiClient(t.stack.identityUrl);
    const manifest = await identity.get<{
      version: string;
      files: Record<string, { url: string; pinned_url: string; integrity: string }>;
    }>('/sdk/manifest.json', { expect: 200 });
    expect(manifest.version).toBe(version);
    expect(Object.keys(manifest.files).sort()).toEqual(['spid.d.ts', 'spid.js', 'spid.mjs']);
    const js = manifest.files['spid.js'];
    expect(js.integrity).toBe(`sha384-${createHash('sha384').update(script).digest('base64')}`);
    const pinned = await fetch(js.pinned_url);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await pinned.arrayBuffer()).equals(script)).toBe(true);

    const etag = res.headers.get('etag')!;
    await identity.get('/sdk/spid.js', { headers: { 'if-none-match': etag }, expect: 304 });
    await identity.get('/sdk/spid.js', { headers: { 'if-none-match': `W/${etag}` }, expect: 304 }); // as a CDN sends it
    const types = await (await fetch(manifest.files['spid.d.ts'].url)).text();
    expect(types).toContain('export interface SPiDApi');

    // The ES module loads cross-origin in a page (module scripts need CORS) and exports the SDK.
    const page = await chromium.open(await chromium.newProfile());
    const exported = await page.evaluate(
      `import(${JSON.stringify(manifest.files['spid.mjs'].url)}).then((m) => [typeof m.default.init, m.default.version, typeof m.createSPiD])`,
    );
    expect(exported).toEqual(['function', version, 'function']);

    expect(await identity.get('/sdk/spid-0000.js', { expect: 404 })).toMatchObject({ error: 'not_found' });
  });

  it('a visitor gets the first-status events; logging in fires SPiD.login here and, without a reload, in another tab', async () => {
    const context = await chromium.newProfile();
    const idle = await chromium.open(context, '?poll=0');
    const page = await chromium.open(context);
    expect(await names(page)).toEqual(FIRST_STATUS);
    expect(await page.textContent('#status')).toBe('not logged in');
    const idleLoaded = await idle.evaluate('performance.timeOrigin');

    await logIn(page);
    expect(await names(page)).toEqual(['SPiD.sessionInit', 'SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']);
    const { user_id } = await chromium.identitySession(context);
    expect(await page.textContent('#status')).toBe(`logged in as ${user_id}`);

    // The idle tab does not poll (?poll=0): only the message from the tab that logged in can tell it.
    await waitForEvent(idle, 'SPiD.login', 'tab');
    expect(await idle.evaluate('performance.timeOrigin')).toBe(idleLoaded);
    expect(await idle.textContent('#status')).toBe(`logged in as ${user_id}`);
  });

  it('logout through the SDK fires the three events in order, ends the identity session and tells the other apps of that session', async () => {
    const context = await chromium.newProfile();
    const page = await chromium.open(context);
    await logIn(page);
    // The same browser signs in to a second application: one identity session, two participants.
    const otherTab = await context.newPage();
    await otherTab.goto(`${other.url}/login`);
    await otherTab.waitForURL(`${other.url}/`);
    const profile = await otherTab.request.get(`${other.url}/profile`);
    expect(profile.status()).toBe(200);
    const { sid } = (await profile.json()) as { sid: string };
    expect(await page.getAttribute('#app-session', 'data-state')).toBe('logged-in');

    await clearEvents(page);
    await page.click('#logout');
    await waitForEvent(page, 'SPiD.sessionChange', 'logout');
    expect(await events(page)).toEqual(LOGOUT_EVENTS.map((event) => ({ event, source: 'logout' })));
    expect(await page.textContent('#status')).toBe('not logged in');

    expect(await chromium.identitySession(context)).toMatchObject({ logged_in: false, user_id: null });
    expect(await t.db("SELECT uid FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [sid])).toEqual([]);

    const [event] = await t.db<{ id: string; trigger: string; initiator: string | null }>(
      'SELECT id, trigger, initiator_client_id AS initiator FROM logout_events WHERE sid = $1',
      [sid],
    );
    expect(event).toMatchObject({ trigger: 'user_logout', initiator: 'demo-app' });
    expect((await deliveredOf(t.stack, event.id)).map(({ client_id, status }) => ({ client_id, status }))).toEqual([
      { client_id: 'demo-app', status: 'delivered' },
      { client_id: 'other-app', status: 'delivered' },
    ]);
    // Both applications ended their own sessions on the back channel.
    expect(other.backchannelHits).toContain(204);
    expect((await otherTab.request.get(`${other.url}/profile`)).status()).toBe(401);
    await page.waitForSelector('#app-session[data-state="logged-out"]');
    expect(await names(page)).toEqual(LOGOUT_EVENTS);

    await mkdir(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'demo-after-logout.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(5_000);
  });

  it('a logout through the redirect flow in a second tab reaches the first tab at once, without a reload', async () => {
    const context = await chromium.newProfile();
    const first = await chromium.open(context);
    await logIn(first);
    // Polling off in the first tab: only the second tab's message can tell it.
    await first.goto(`${demo.url}/?poll=0`);
    await waitForEvent(first, 'SPiD.login');
    const loaded = await first.evaluate('performance.timeOrigin');
    await clearEvents(first);

    const second = await chromium.open(context);
    await second.click('#redirect-logout');
    await second.waitForURL(`${demo.url}/`);
    await waitForEvent(second, 'SPiD.visitor');

    await waitForEvent(first, 'SPiD.logout', 'tab');
    expect(await names(first)).toEqual(LOGOUT_EVENTS);
    expect(await first.evaluate('performance.timeOrigin')).toBe(loaded);
    expect(await first.textContent('#status')).toBe('not logged in');
    expect(await chromium.identitySession(context)).toMatchObject({ logged_in: false });
  });

  it('a hidden tab does not poll while a visible one does; back in view it asks at once and sees a logout made elsewhere', async () => {
    const context = await chromium.newProfile();
    const page = await chromium.open(context);
    await logIn(page);
    const checks = new Map<Page, number>();
    const countChecks = (tab: Page) => {
      checks.set(tab, 0);
      tab.on('request', (req) => {
        if (req.url().startsWith(`${t.stack.identityUrl}/api/2/session?`)) checks.set(tab, checks.get(tab)! + 1);
      });
    };
    countChecks(page);
    await page.goto(`${demo.url}/?poll=200`);
    await waitFor(() => checks.get(page)! >= 3, { what: 'polling while visible' });

    // A second tab polling at the same pace is the clock: five of its checks, none of the hidden tab's.
    const control = await context.newPage();
    countChecks(control);
    await control.goto(`${demo.url}/?poll=200`);
    await setVisibility(page, 'hidden');
    await waitFor(() => checks.get(control)! >= 1, { what: 'the control tab polling' });
    const hiddenChecks = checks.get(page)!;
    const from = checks.get(control)!;
    await waitFor(() => checks.get(control)! >= from + 5, { what: 'five polls of the visible tab' });
    expect(checks.get(page)).toBe(hiddenChecks);
    await control.close();

    // Back in view with a stale status it asks at once: polling once a minute, and no status counts as fresh (cache=0).
    await page.goto(`${demo.url}/?poll=60000&cache=0`);
    await waitForEvent(page, 'SPiD.login');
    await setVisibility(page, 'hidden');
    // An operator ends the session meanwhile (another application's logout, as far as this tab knows).
    const { user_id } = await chromium.identitySession(context);
    await t.admin.delete(`/v1/users/${encodeURIComponent(user_id!)}/sessions`, { expect: 202 });
    expect(await names(page)).not.toContain('SPiD.logout');
    await setVisibility(page, 'visible');
    await waitForEvent(page, 'SPiD.logout', 'poll'); // within waitForEvent's 10 s, far before the next minute's poll
  });

  it('on a page of another site the SDK sees no session (the browser keeps the cookie back); the redirect flow still ends it', async () => {
    // localhost and 127.0.0.1 are different sites: identity's SameSite=Lax cookie stays home on cross-site requests.
    const crossSite = demo.url.replace('127.0.0.1', 'localhost');
    await t.admin.patch('/v1/clients/demo-app', { body: { web_origins: [demo.url, crossSite] }, expect: 200 });
    try {
      const context = await chromium.newProfile();
      const home = await chromium.open(context, '?poll=0');
      await logIn(home);
      await home.goto(`${demo.url}/?poll=0`);
      await waitForEvent(home, 'SPiD.login');

      const page = await chromium.open(context, '', crossSite);
      expect(await names(page)).toEqual(FIRST_STATUS);
      expect(await chromium.identitySession(context)).toMatchObject({ logged_in: true });

      await page.click('#redirect-logout'); // a top-level navigation carries the cookie
      await page.waitForURL(`${demo.url}/`);
      await waitForEvent(page, 'SPiD.visitor');
      expect(await chromium.identitySession(context)).toMatchObject({ logged_in: false });
      await waitForEvent(home, 'SPiD.logout', 'tab'); // and the app's other tabs hear of it at once
    } finally {
      await t.admin.patch('/v1/clients/demo-app', { body: { web_origins: [demo.url] }, expect: 200 });
    }
  });

  it('a page on an unregistered origin is refused: no status, no logout, an SPiD.error naming the origin', async () => {
    const context = await chromium.newProfile();
    await logIn(await chromium.open(context));

    const page = await chromium.open(context, '', foreign.url);
    expect((await events(page)).map((e) => e.event)).toEqual(['SPiD.error']);
    expect(await page.getAttribute('#status', 'data-state')).toBe('error');
    expect(await page.textContent('#status')).toContain(`refused its origin ${foreign.url}`);

    const logout = (await page.evaluate('SPiD.logout().then(() => "logged out", (e) => e.code + ": " + e.message)')) as string;
    expect(logout).toMatch(/^unreachable: /);
    expect(await chromium.identitySession(context)).toMatchObject({ logged_in: true });

    // What the browser hides: identity answered 403 and no CORS headers.
    const identity = apiClient(t.stack.identityUrl);
    for (const [method, path, headers] of [
      ['GET', '/api/2/session', {}],
      ['POST', '/api/2/session/logout', { 'x-spid-request': '1' }],
      ['OPTIONS', '/api/2/session/logout', { 'access-control-request-method': 'POST' }],
    ] as const) {
      const res = await identity.send(method, `${path}?client_id=demo-app`, {
        headers: { origin: foreign.url, ...headers },
        expect: 403,
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.body).toMatchObject({ error: 'forbidden', message: expect.stringContaining(foreign.url) });
    }
  });
});
