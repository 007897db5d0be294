import { createApiApp } from '../apps/api/src/api.app';
import { startDemo, RunningDemo } from '../apps/demo/src/demo.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import { FAST_DELIVERY_ENV, freePort, startTestStack, TestStack, waitFor, withPg } from '@slo/testing';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RelyingParty, startRelyingParty } from './support/relying-party';

/** Debian's chromium (scripts/test.sh and .ci/run install it when it is missing). */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'test-results', 'sdk-browser');
const USER = { email: 'sam@example.com', password: 'sdk browser password' };
const LOGOUT_EVENTS = ['SPiD.logout', 'SPiD.statusChange', 'SPiD.sessionChange'];

interface SeenEvent {
  event: string;
  source: string;
}

describe('browser SDK in headless Chromium: demo app on one origin, identity on another', () => {
  let stack: TestStack;
  let admin: string;
  let browser: Browser;
  let demo: RunningDemo;
  /** The same demo page on an origin that is not a web origin of demo-app. */
  let foreign: RunningDemo;
  let other: RelyingParty;
  const contexts: BrowserContext[] = [];

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withPg(stack.dbUrl, (c) => c.query(text, params)).then((r) => r.rows as T[]);

  async function register(body: Record<string, unknown>): Promise<string> {
    const res = await api('POST', '/v1/clients', body);
    expect(res.status).toBe(201);
    return ((await res.json()) as { client_secret: string }).client_secret;
  }

  /** A fresh browser profile: its own cookies, so its own identity session. */
  async function newProfile(): Promise<BrowserContext> {
    const context = await browser.newContext();
    contexts.push(context);
    return context;
  }

  const events = (page: Page) =>
    page.evaluate('window.spidEvents.map((e) => ({ event: e.event, source: e.source }))') as Promise<SeenEvent[]>;
  const names = async (page: Page) => (await events(page)).map((e) => e.event);
  const clearEvents = (page: Page) => page.evaluate('window.spidEvents.length = 0');
  const waitForEvent = (page: Page, event: string, source?: string) =>
    page.waitForFunction(
      ([e, s]) =>
        (globalThis as unknown as { spidEvents: SeenEvent[] }).spidEvents.some((x) => x.event === e && (!s || x.source === s)),
      [event, source] as const,
      { timeout: 10_000 },
    );

  /** Opens the demo page and waits for its first status (or its error). */
  async function openDemo(context: BrowserContext, query = '', origin = demo.url): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${origin}/${query}`);
    await page.waitForFunction(
      () => (globalThis as unknown as { spidEvents?: SeenEvent[] }).spidEvents?.some((e) => /sessionInit|error/.test(e.event)),
      undefined,
      { timeout: 10_000 },
    );
    return page;
  }

  /** Signs in through the demo's Log in button and the identity login page; back on the demo page. */
  async function logIn(page: Page): Promise<void> {
    await page.click('#login');
    await page.waitForURL(`${stack.identityUrl}/**`);
    await page.fill('#email', USER.email);
    await page.fill('#password', USER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${demo.url}/`);
    await waitForEvent(page, 'SPiD.sessionInit');
  }

  /** The identity session as identity itself reports it for this browser profile's cookies. */
  async function identitySession(context: BrowserContext): Promise<{ logged_in: boolean; user_id: string | null }> {
    const res = await context.request.get(`${stack.identityUrl}/api/2/session?client_id=demo-app`);
    expect(res.status()).toBe(200);
    return (await res.json()) as { logged_in: boolean; user_id: string | null };
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (npm test does it as root)`);
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp, env: { ...FAST_DELIVERY_ENV } });
    await stack.start(createWorkerApp);
    await stack.identity.get(UsersService).create({ ...USER, name: 'Sam' });
    admin = await stack.serverToken('admin');

    const [demoPort, foreignPort, otherPort] = [await freePort(), await freePort(), await freePort()];
    const demoUrl = `http://127.0.0.1:${demoPort}`;
    const demoSecret = await register({
      client_id: 'demo-app',
      client_name: 'Demo application',
      redirect_uris: [`${demoUrl}/callback`],
      post_logout_redirect_uris: [`${demoUrl}/`],
      web_origins: [demoUrl],
      backchannel_logout_uri: `${demoUrl}/backchannel-logout`,
    });
    const settings = {
      baseUrl: demoUrl,
      port: demoPort,
      identityUrl: stack.identityUrl,
      clientId: 'demo-app',
      clientSecret: demoSecret,
      cookieSecret: 'demo-cookie-secret-for-the-sdk-browser-test',
    };
    demo = await startDemo(settings, '127.0.0.1');
    foreign = await startDemo({ ...settings, port: foreignPort }, '127.0.0.1');

    const otherUrl = `http://127.0.0.1:${otherPort}`;
    const otherSecret = await register({
      client_id: 'other-app',
      client_name: 'Another app of the same user',
      redirect_uris: [`${otherUrl}/callback`],
      backchannel_logout_uri: `${otherUrl}/backchannel-logout`,
    });
    other = await startRelyingParty({
      issuer: stack.identityUrl,
      clientId: 'other-app',
      clientSecret: otherSecret,
      port: otherPort,
    });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await demo?.close();
    await foreign?.close();
    await other?.close();
    await stack?.close();
  });

  it('identity serves the SDK as script, ES module and types: cacheable, versioned, pinned with SRI', async () => {
    const res = await fetch(`${stack.identityUrl}/sdk/spid.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const script = Buffer.from(await res.arrayBuffer());
    const version = res.headers.get('x-spid-sdk-version');
    expect(script.toString()).toContain(`SPiD browser SDK ${version}`);

    const manifest = (await (await fetch(`${stack.identityUrl}/sdk/manifest.json`)).json()) as {
      version: string;
      files: Record<string, { url: string; pinned_url: string; integrity: string }>;
    };
    expect(manifest.version).toBe(version);
    expect(Object.keys(manifest.files).sort()).toEqual(['spid.d.ts', 'spid.js', 'spid.mjs']);
    const js = manifest.files['spid.js'];
    expect(js.integrity).toBe(`sha384-${createHash('sha384').update(script).digest('base64')}`);
    const pinned = await fetch(js.pinned_url);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await pinned.arrayBuffer()).equals(script)).toBe(true);

    const again = await fetch(`${stack.identityUrl}/sdk/spid.js`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const viaCdn = await fetch(`${stack.identityUrl}/sdk/spid.js`, {
      headers: { 'if-none-match': `W/${res.headers.get('etag')}` },
    });
    expect(viaCdn.status).toBe(304);
    const types = await (await fetch(manifest.files['spid.d.ts'].url)).text();
    expect(types).toContain('export interface SPiDApi');

    // The ES module loads cross-origin in a page (module scripts need CORS) and exports the SDK.
    const page = await openDemo(await newProfile());
    const exported = await page.evaluate(
      `import(${JSON.stringify(manifest.files['spid.mjs'].url)}).then((m) => [typeof m.default.init, m.default.version, typeof m.createSPiD])`,
    );
    expect(exported).toEqual(['function', version, 'function']);

    const missing = await fetch(`${stack.identityUrl}/sdk/spid-0000.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('a visitor gets the first-status events; logging in fires SPiD.login here and, without a reload, in another tab', async () => {
    const context = await newProfile();
    const idle = await openDemo(context, '?poll=0');
    const page = await openDemo(context);
    expect(await names(page)).toEqual(['SPiD.sessionInit', 'SPiD.statusChange', 'SPiD.notLoggedin', 'SPiD.visitor']);
    expect(await page.textContent('#status')).toBe('not logged in');
    const idleLoaded = await idle.evaluate('performance.timeOrigin');

    await logIn(page);
    expect(await names(page)).toEqual(['SPiD.sessionInit', 'SPiD.login', 'SPiD.statusChange', 'SPiD.sessionChange']);
    const { user_id } = await identitySession(context);
    expect(await page.textContent('#status')).toBe(`logged in as ${user_id}`);

    // The idle tab does not poll (?poll=0): only the message from the tab that logged in can tell it.
    await waitForEvent(idle, 'SPiD.login', 'tab');
    expect(await idle.evaluate('performance.timeOrigin')).toBe(idleLoaded);
    expect(await idle.textContent('#status')).toBe(`logged in as ${user_id}`);
  });

  it('logout through the SDK fires the three events in order, ends the identity session and tells the other apps of that session', async () => {
    const context = await newProfile();
    const page = await openDemo(context);
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

    expect(await identitySession(context)).toMatchObject({ logged_in: false, user_id: null });
    expect(await sql("SELECT uid FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [sid])).toEqual([]);

    const [event] = await sql<{ id: string; trigger: string; initiator: string | null }>(
      'SELECT id, trigger, initiator_client_id AS initiator FROM logout_events WHERE sid = $1',
      [sid],
    );
    expect(event).toMatchObject({ trigger: 'user_logout', initiator: 'demo-app' });
    const deliveries = await waitFor(
      async () => {
        const rows = await sql<{ client_id: string; status: string }>(
          'SELECT client_id, status FROM deliveries WHERE event_id = $1 ORDER BY client_id',
          [event.id],
        );
        return rows.every((r) => r.status === 'delivered') ? rows : null;
      },
      { what: 'back-channel deliveries of the SDK logout' },
    );
    expect(deliveries).toEqual([
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
    const context = await newProfile();
    const first = await openDemo(context);
    await logIn(first);
    // Polling off in the first tab: only the second tab's message can tell it.
    await first.goto(`${demo.url}/?poll=0`);
    await waitForEvent(first, 'SPiD.login');
    const loaded = await first.evaluate('performance.timeOrigin');
    await clearEvents(first);

    const second = await openDemo(context);
    await second.click('#redirect-logout');
    await second.waitForURL(`${demo.url}/`);
    await waitForEvent(second, 'SPiD.visitor');

    await waitForEvent(first, 'SPiD.logout', 'tab');
    expect(await names(first)).toEqual(LOGOUT_EVENTS);
    expect(await first.evaluate('performance.timeOrigin')).toBe(loaded);
    expect(await first.textContent('#status')).toBe('not logged in');
    expect(await identitySession(context)).toMatchObject({ logged_in: false });
  });

  it('a hidden tab does not poll while a visible one does; back in view it asks at once and sees a logout made elsewhere', async () => {
    const context = await newProfile();
    const page = await openDemo(context);
    await logIn(page);
    const checks = new Map<Page, number>();
    const countChecks = (tab: Page) => {
      checks.set(tab, 0);
      tab.on('request', (req) => {
        if (req.url().startsWith(`${stack.identityUrl}/api/2/session?`)) checks.set(tab, checks.get(tab)! + 1);
      });
    };
    countChecks(page);
    await page.goto(`${demo.url}/?poll=200`);
    await waitFor(() => checks.get(page)! >= 3, { what: 'polling while visible' });

    // A second tab polling at the same pace is the clock: five of its checks, none of the hidden tab's.
    const control = await context.newPage();
    countChecks(control);
    await control.goto(`${demo.url}/?poll=200`);
    await page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'))`);
    await waitFor(() => checks.get(control)! >= 1, { what: 'the control tab polling' });
    const hiddenChecks = checks.get(page)!;
    const from = checks.get(control)!;
    await waitFor(() => checks.get(control)! >= from + 5, { what: 'five polls of the visible tab' });
    expect(checks.get(page)).toBe(hiddenChecks);
    await control.close();

    // Back in view with a stale status it asks at once: polling once a minute, and no status counts as fresh (cache=0).
    await page.goto(`${demo.url}/?poll=60000&cache=0`);
    await waitForEvent(page, 'SPiD.login');
    await page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'))`);
    // An operator ends the session meanwhile (another application's logout, as far as this tab knows).
    const { user_id } = await identitySession(context);
    expect((await api('DELETE', `/v1/users/${encodeURIComponent(user_id!)}/sessions`)).status).toBe(202);
    expect(await names(page)).not.toContain('SPiD.logout');
    await page.evaluate(`Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'))`);
    await waitForEvent(page, 'SPiD.logout', 'poll'); // within waitForEvent's 10 s, far before the next minute's poll
  });

  it('on a page of another site the SDK sees no session (the browser keeps the cookie back); the redirect flow still ends it', async () => {
    // localhost and 127.0.0.1 are different sites: identity's SameSite=Lax cookie stays home on cross-site requests.
    const crossSite = demo.url.replace('127.0.0.1', 'localhost');
    expect((await api('PATCH', '/v1/clients/demo-app', { web_origins: [demo.url, crossSite] })).status).toBe(200);
    try {
      const context = await newProfile();
      const home = await openDemo(context, '?poll=0');
      await logIn(home);
      await home.goto(`${demo.url}/?poll=0`);
      await waitForEvent(home, 'SPiD.login');

      const page = await openDemo(context, '', crossSite);
      expect(await names(page)).toEqual(['SPiD.sessionInit', 'SPiD.statusChange', 'SPiD.notLoggedin', 'SPiD.visitor']);
      expect(await identitySession(context)).toMatchObject({ logged_in: true });

      await page.click('#redirect-logout'); // a top-level navigation carries the cookie
      await page.waitForURL(`${demo.url}/`);
      await waitForEvent(page, 'SPiD.visitor');
      expect(await identitySession(context)).toMatchObject({ logged_in: false });
      await waitForEvent(home, 'SPiD.logout', 'tab'); // and the app's other tabs hear of it at once
    } finally {
      await api('PATCH', '/v1/clients/demo-app', { web_origins: [demo.url] });
    }
  });

  it('a page on an unregistered origin is refused: no status, no logout, an SPiD.error naming the origin', async () => {
    const context = await newProfile();
    const home = await openDemo(context);
    await logIn(home);

    const page = await openDemo(context, '', foreign.url);
    const seen = await events(page);
    expect(seen.map((e) => e.event)).toEqual(['SPiD.error']);
    expect(await page.getAttribute('#status', 'data-state')).toBe('error');
    expect(await page.textContent('#status')).toContain(`refused its origin ${foreign.url}`);

    const logout = (await page.evaluate('SPiD.logout().then(() => "logged out", (e) => e.code + ": " + e.message)')) as string;
    expect(logout).toMatch(/^unreachable: /);
    expect(await identitySession(context)).toMatchObject({ logged_in: true });

    // What the browser hides: identity answered 403 and no CORS headers.
    for (const [method, path, headers] of [
      ['GET', '/api/2/session', {}],
      ['POST', '/api/2/session/logout', { 'x-spid-request': '1' }],
      ['OPTIONS', '/api/2/session/logout', { 'access-control-request-method': 'POST' }],
    ] as const) {
      const res = await fetch(`${stack.identityUrl}${path}?client_id=demo-app`, {
        method,
        headers: { origin: foreign.url, ...headers },
      });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.json()).toMatchObject({ error: 'forbidden', message: expect.stringContaining(foreign.url) });
    }
  });
});
