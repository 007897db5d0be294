import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import {
  freePort,
  HttpSession,
  Receiver,
  signIn,
  startTestStack,
  TestStack,
  waitFor,
  withPg,
  FAST_DELIVERY_ENV,
} from '@slo/testing';
import { browse, hiddenInputs } from './support/browse';
import { RelyingParty, startRelyingParty } from './support/relying-party';

const USER = { email: 'lin@example.com', password: 'correct horse battery' };

describe('logout flows, verified with express-openid-connect relying parties', () => {
  let stack: TestStack;
  let admin: string;
  const rps: Record<'a' | 'b' | 'c', RelyingParty> = {} as never;

  const api = (method: string, path: string, token = admin, body?: unknown) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withPg(stack.dbUrl, (c) => c.query(text, params)).then((r) => r.rows as T[]);

  const profile = async (browser: HttpSession, rp: RelyingParty) => (await browser.request(`${rp.url}/profile`)).status;

  /** Browser 1 signs in to apps A and B (one identity session); browser 2, the same user, to app C. */
  async function signInEverywhere() {
    const one = new HttpSession({ perOrigin: true });
    const two = new HttpSession({ perOrigin: true });
    await browse(one, `${rps.a.url}/login`, USER);
    await browse(one, `${rps.b.url}/login`, USER);
    await browse(two, `${rps.c.url}/login`, USER);
    for (const [browser, rp] of [
      [one, rps.a],
      [one, rps.b],
      [two, rps.c],
    ] as const) {
      expect(await profile(browser, rp)).toBe(200);
    }
    const a = (await (await one.request(`${rps.a.url}/profile`)).json()) as { sid: string; sub: string };
    const b = (await (await one.request(`${rps.b.url}/profile`)).json()) as { sid: string };
    expect(b.sid).toBe(a.sid);
    return { one, two, sid: a.sid, sub: a.sub };
  }

  /** A and B were told (their back channel answered 204, recorded as delivered) and show the user logged out; C was not told. */
  async function expectSharedSessionLoggedOut(one: HttpSession, two: HttpSession, eventId: string, trigger: string) {
    const deliveries = await waitFor(
      async () => {
        const rows = await sql<{ client_id: string; status: string; last_status_code: number }>(
          'SELECT client_id, status, last_status_code FROM deliveries WHERE event_id = $1 ORDER BY client_id',
          [eventId],
        );
        return rows.length === 2 && rows.every((r) => r.status === 'delivered') ? rows : null;
      },
      { what: `both deliveries of ${trigger} delivered` },
    );
    expect(deliveries).toEqual([
      { client_id: 'rp-a', status: 'delivered', last_status_code: 204 },
      { client_id: 'rp-b', status: 'delivered', last_status_code: 204 },
    ]);
    const [event] = await sql<{ trigger: string }>('SELECT trigger FROM logout_events WHERE id = $1', [eventId]);
    expect(event.trigger).toBe(trigger);
    expect(await profile(one, rps.a)).toBe(401);
    expect(await profile(one, rps.b)).toBe(401);
    expect(await profile(two, rps.c)).toBe(200);
  }

  const latestEvent = async () => (await sql<{ id: string }>('SELECT id FROM logout_events ORDER BY id DESC LIMIT 1'))[0].id;

  beforeAll(async () => {
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: {
        ...FAST_DELIVERY_ENV,
        LOGOUT_REDIRECT_WAIT_MS: '5000',
        SESSION_EXPIRY_SWEEP_SECONDS: '1',
      },
    });
    await stack.start(createWorkerApp);
    await stack.identity.get(UsersService).create({ ...USER, name: 'Lin' });
    admin = await stack.serverToken('admin');
    for (const key of ['a', 'b', 'c'] as const) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const res = await api('POST', '/v1/clients', admin, {
        client_id: `rp-${key}`,
        client_name: `App ${key.toUpperCase()}`,
        redirect_uris: [`${url}/callback`],
        post_logout_redirect_uris: [url, `${url}/`],
        backchannel_logout_uri: `${url}/backchannel-logout`,
      });
      const client = (await res.json()) as { client_secret: string };
      expect(res.status).toBe(201);
      rps[key] = await startRelyingParty({
        issuer: stack.identityUrl,
        clientId: `rp-${key}`,
        clientSecret: client.client_secret,
        port,
      });
    }
  });

  afterAll(async () => {
    for (const rp of Object.values(rps)) await rp?.close();
    await stack?.close();
  });

  it('advertises back-channel and front-channel logout and the end_session endpoint', async () => {
    const discovery = (await (await fetch(`${stack.identityUrl}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(discovery).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
      end_session_endpoint: `${stack.identityUrl}/session/end`,
    });
  });

  it('redirect flow: GET /logout ends the session, and with LOGOUT_REDIRECT_WAIT_MS the apps are told before the redirect', async () => {
    const { one, two } = await signInEverywhere();
    const back = `${rps.a.url}/`;
    const res = await one.request(`${stack.identityUrl}/logout?client_id=rp-a&redirect_uri=${encodeURIComponent(back)}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(back);
    // No waiting here: the redirect itself waited for the deliveries.
    expect(await profile(one, rps.b)).toBe(401);
    await expectSharedSessionLoggedOut(one, two, await latestEvent(), 'user_logout');

    // Logging out again is not an error: still a redirect.
    const again = await one.request(`${stack.identityUrl}/logout?client_id=rp-a&redirect_uri=${encodeURIComponent(back)}`);
    expect(again.status).toBe(303);
  });

  it('RP-initiated logout: end_session with a valid id_token_hint confirms itself and records the logout before redirecting', async () => {
    const { one, two } = await signInEverywhere();
    const page = await browse(one, `${rps.a.url}/logout`);
    expect(page.url).toContain('/session/end');
    expect(page.html).toContain('op.logoutForm');
    expect(page.html).toMatch(/f\.submit\(\)/);
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.html)![1];
    const done = await one.postForm(new URL(action, stack.identityUrl).href, { ...hiddenInputs(page.html), logout: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toMatch(new RegExp(`^${rps.a.url}/?$`));
    await expectSharedSessionLoggedOut(one, two, await latestEvent(), 'rp_initiated');
  });

  it('RP-initiated logout without id_token_hint asks the user to confirm', async () => {
    const { one } = await signInEverywhere();
    const page = await browse(one, `${stack.identityUrl}/session/end?client_id=rp-a`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Sign out?');
    expect(page.html).not.toMatch(/f\.submit\(\)/);
    expect(await profile(one, rps.b)).toBe(200);
  });

  it('admin end-session on the api ends that one session and tells its apps', async () => {
    const { one, two, sid } = await signInEverywhere();
    const res = await api('DELETE', `/v1/sessions/${encodeURIComponent(sid)}`);
    expect(res.status).toBe(202);
    const { event_id } = (await res.json()) as { event_id: string };
    await expectSharedSessionLoggedOut(one, two, event_id, 'admin_revoke');
    expect((await api('DELETE', `/v1/sessions/${encodeURIComponent(sid)}`)).status).toBe(404);
    expect((await api('DELETE', `/v1/sessions/x`, await stack.serverToken('client:self'))).status).toBe(403);
  });

  it('admin all-sessions ends every session of the user, and every app is told', async () => {
    const { one, two, sub } = await signInEverywhere();
    const res = await api('DELETE', `/v1/users/${encodeURIComponent(sub)}/sessions`);
    expect(res.status).toBe(202);
    const { event_id } = (await res.json()) as { event_id: string };
    // The three deliveries run concurrently: wait for every app, not only the first to finish.
    await waitFor(
      async () =>
        (await profile(two, rps.c)) === 401 && (await profile(one, rps.a)) === 401 && (await profile(one, rps.b)) === 401,
      { what: 'apps A, B and C logged out' },
    );
    const [row] = await sql<{ trigger: string }>('SELECT trigger FROM logout_events WHERE id = $1', [event_id]);
    expect(row.trigger).toBe('all_sessions');
  });

  it('session expiry: the sweep records a session_expired logout, told only to clients that want it', async () => {
    expect((await api('PATCH', '/v1/clients/rp-b', admin, { notify_session_expired: false })).status).toBe(200);
    try {
      const { one, two, sid } = await signInEverywhere();
      await sql("UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE model = 'Session' AND uid = $1", [sid]);
      const event = await waitFor(
        async () =>
          (await sql<{ id: string }>("SELECT id FROM logout_events WHERE trigger = 'session_expired' AND sid = $1", [sid]))[0],
        { what: 'the expiry sweep', timeoutMs: 15_000 },
      );
      const deliveries = await waitFor(
        async () => {
          const rows = await sql<{ client_id: string; status: string }>(
            'SELECT client_id, status FROM deliveries WHERE event_id = $1',
            [event.id],
          );
          return rows.every((r) => r.status === 'delivered') ? rows : null;
        },
        { what: 'the expiry deliveries' },
      );
      expect(deliveries).toEqual([{ client_id: 'rp-a', status: 'delivered' }]);
      expect(await profile(one, rps.a)).toBe(401);
      expect(await profile(two, rps.c)).toBe(200);
    } finally {
      await api('PATCH', '/v1/clients/rp-b', admin, { notify_session_expired: true });
    }
  });

  describe('browser endpoints for the JavaScript SDK', () => {
    const ORIGIN = 'http://shop.example.test';
    let browser: HttpSession;

    beforeAll(async () => {
      const res = await api('POST', '/v1/clients', admin, {
        client_id: 'web-sdk',
        client_name: 'Web SDK',
        redirect_uris: ['http://127.0.0.1:9/web-sdk'],
        web_origins: [ORIGIN],
      });
      const c = (await res.json()) as { client_secret: string };
      browser = new HttpSession();
      await signIn(
        stack.identityUrl,
        browser,
        { client_id: 'web-sdk', client_secret: c.client_secret, redirect_uri: 'http://127.0.0.1:9/web-sdk' },
        USER,
      );
    });

    const status = (origin: string) =>
      browser.request(`${stack.identityUrl}/api/2/session?client_id=web-sdk`, { headers: { origin } });

    it('answers the session status with credentials to a registered origin only', async () => {
      const ok = await status(ORIGIN);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
      expect(await ok.json()).toMatchObject({ logged_in: true, client_id: 'web-sdk' });

      const foreign = await status('https://evil.example');
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      expect(await foreign.json()).toMatchObject({ error: 'forbidden' });
    });

    it('allows the preflight for registered origins only', async () => {
      const preflight = (origin: string) =>
        fetch(`${stack.identityUrl}/api/2/session/logout?client_id=web-sdk`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-spid-request' },
        });
      const ok = await preflight(ORIGIN);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-headers')).toContain('x-spid-request');
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses a logout without the SDK header (a cross-site form cannot send it) or from a foreign origin', async () => {
      const noHeader = await browser.request(`${stack.identityUrl}/api/2/session/logout?client_id=web-sdk`, {
        method: 'POST',
        headers: { origin: ORIGIN },
      });
      expect(noHeader.status).toBe(403);
      const foreign = await browser.request(`${stack.identityUrl}/api/2/session/logout?client_id=web-sdk`, {
        method: 'POST',
        headers: { origin: 'https://evil.example', 'x-spid-request': '1' },
      });
      expect(foreign.status).toBe(403);
      expect(await (await status(ORIGIN)).json()).toMatchObject({ logged_in: true });
    });

    it('logs out through the SDK endpoint', async () => {
      const res = await browser.request(`${stack.identityUrl}/api/2/session/logout?client_id=web-sdk`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'x-spid-request': '1' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ logged_out: true });
      expect(await (await status(ORIGIN)).json()).toMatchObject({ logged_in: false, user_id: null });
    });
  });

  it('front-channel logout: the signed-out page embeds an iframe with iss and sid for each front-channel client', async () => {
    const res = await api('POST', '/v1/clients', admin, {
      client_id: 'fc-app',
      client_name: 'Front channel',
      redirect_uris: ['http://127.0.0.1:9/fc'],
      frontchannel_logout_uri: 'http://127.0.0.1:9/fc/logout?x=1',
    });
    const c = (await res.json()) as { client_secret: string };
    const browser = new HttpSession();
    const { sid } = await signIn(
      stack.identityUrl,
      browser,
      { client_id: 'fc-app', client_secret: c.client_secret, redirect_uri: 'http://127.0.0.1:9/fc' },
      USER,
    );
    const page = await browser.request(
      `${stack.identityUrl}/logout?client_id=fc-app&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/fc')}`,
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    const src = /<iframe class="fc" src="([^"]+)"/
      .exec(html)![1]
      .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)));
    const frame = new URL(src);
    expect(frame.origin + frame.pathname).toBe('http://127.0.0.1:9/fc/logout');
    expect(Object.fromEntries(frame.searchParams)).toEqual({ x: '1', iss: stack.identityUrl, sid });
    expect(html).toContain('id="continue"');
  });

  describe('API logout for mobile apps', () => {
    let mobile: { client_id: string; client_secret: string; redirect_uri: string };

    beforeAll(async () => {
      const res = await api('POST', '/v1/clients', admin, {
        client_id: 'mobile',
        client_name: 'Mobile',
        redirect_uris: ['http://127.0.0.1:9/mobile'],
      });
      mobile = { ...((await res.json()) as typeof mobile), redirect_uri: 'http://127.0.0.1:9/mobile' };
    });

    const logoutWith = (token: string, method = 'POST', query = '') =>
      fetch(`${stack.identityUrl}/api/2/logout${query}`, { method, headers: { authorization: `Bearer ${token}` } });

    it('revokes that app’s tokens only; the user’s other apps stay signed in', async () => {
      const { one, two, sid } = await signInEverywhere();
      // The app's login shares the browser's identity session with apps A and B: only the app's login ends.
      const app = await signIn(stack.identityUrl, one, mobile, USER);
      expect(app.sid).toBe(sid);
      const res = await logoutWith(app.accessToken);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { event_id: string };
      expect(body).toMatchObject({ logged_out: true, scope: 'app' });
      // The identity session lives on and apps A and B are not told.
      expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [sid])).toHaveLength(1);
      expect(await sql('SELECT client_id FROM deliveries WHERE event_id = $1', [body.event_id])).toEqual([]);
      expect((await fetch(`${stack.identityUrl}/me`, { headers: { authorization: `Bearer ${app.accessToken}` } })).status).toBe(
        401,
      );
      const refresh = await fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`mobile:${mobile.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: app.refreshToken! }),
      });
      expect(refresh.status).toBe(400);
      expect(await profile(one, rps.a)).toBe(200);
      expect(await profile(one, rps.b)).toBe(200);
      expect(await profile(two, rps.c)).toBe(200);
      // GET works too, as the original endpoint allowed; a revoked token is refused.
      expect((await logoutWith(app.accessToken, 'GET')).status).toBe(401);
    });

    it('tells the app’s own back channel, when it has one', async () => {
      const receiver = await Receiver.start();
      try {
        expect((await api('PATCH', '/v1/clients/mobile', admin, { backchannel_logout_uri: `${receiver.url}/bcl` })).status).toBe(
          200,
        );
        const app = await signIn(stack.identityUrl, new HttpSession(), mobile, USER);
        const res = await logoutWith(app.accessToken);
        const { event_id } = (await res.json()) as { event_id: string };
        await waitFor(() => receiver.received('/bcl').length === 1, { what: 'the mobile back channel' });
        const claims = JSON.parse(
          Buffer.from(receiver.received('/bcl')[0].logoutToken!.split('.')[1], 'base64url').toString(),
        ) as {
          aud: string;
          sub: string;
        };
        expect(claims).toMatchObject({ aud: 'mobile', sub: app.sub });
        const rows = await sql<{ client_id: string }>('SELECT client_id FROM deliveries WHERE event_id = $1', [event_id]);
        expect(rows).toEqual([{ client_id: 'mobile' }]);
      } finally {
        await api('PATCH', '/v1/clients/mobile', admin, { backchannel_logout_uri: null });
        await receiver.close();
      }
    });

    it('lets an admin server token log a user out of every session and device', async () => {
      const { one, two, sub } = await signInEverywhere();
      const app = await signIn(stack.identityUrl, new HttpSession(), mobile, USER);
      const res = await logoutWith(admin, 'POST', `?sub=${encodeURIComponent(sub)}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ scope: 'all_sessions' });
      expect((await fetch(`${stack.identityUrl}/me`, { headers: { authorization: `Bearer ${app.accessToken}` } })).status).toBe(
        401,
      );
      await waitFor(async () => (await profile(one, rps.a)) === 401 && (await profile(two, rps.c)) === 401, {
        what: 'every app logged out',
      });
    });

    it('refuses a missing, unknown or under-scoped token', async () => {
      expect((await fetch(`${stack.identityUrl}/api/2/logout`, { method: 'POST' })).status).toBe(401);
      expect((await logoutWith('not-a-token')).status).toBe(401);
      expect((await logoutWith(await stack.serverToken('client:self'), 'POST', '?sub=x')).status).toBe(401);
    });
  });

  describe('the redirect flow refuses what it must', () => {
    const REGISTERED = 'https://app.example.com/after-logout';
    let victim: HttpSession;
    let victimSid: string;

    beforeAll(async () => {
      const res = await api('POST', '/v1/clients', admin, {
        client_id: 'victim',
        client_name: 'Victim',
        redirect_uris: ['https://app.example.com/cb'],
        post_logout_redirect_uris: [REGISTERED],
      });
      const c = (await res.json()) as { client_secret: string };
      victim = new HttpSession();
      // A session of its own that no refused request may end.
      victimSid = (
        await signIn(
          stack.identityUrl,
          victim,
          { client_id: 'victim', client_secret: c.client_secret, redirect_uri: 'https://app.example.com/cb' },
          USER,
        )
      ).sid;
    });

    const hostile = [
      'https://evil.example.com/after-logout',
      'https://app.example.com.evil.com/after-logout',
      'https://user@app.example.com/after-logout',
      'https://app.example.com@evil.com/after-logout',
      'https://app.example.com\\after-logout',
      'https://app.example.com\\@evil.com/after-logout',
      'https://app.example.com%2Fafter-logout',
      'https://app.example.com/after-logout/%2e%2e/',
      'https://app.example.com/after-logout/../evil',
      'http://app.example.com/after-logout',
      'https://app.example.com/after-logout/extra',
      'https://app.example.com/after-logout?next=https://evil.com',
      'https://app.example.com/after-logout#frag',
      'https://аpp.example.com/after-logout',
      ' https://app.example.com/after-logout',
      'https://app.example.com/after-logout ',
      'https://app.example.com/after-logout\t',
      encodeURIComponent(REGISTERED),
      'https://app.example.com',
      'https://app.example.com/after-log',
      'HTTPS://APP.EXAMPLE.COM/after-logout',
      'https://app.example.com:443/after-logout',
      'https://app.example.com/After-Logout',
      '//evil.com/after-logout',
      '/after-logout',
      'javascript:alert(1)',
      '',
    ];

    it.each(hostile)('does not redirect to %j and ends nothing', async (value) => {
      const res = await victim.request(`${stack.identityUrl}/logout?client_id=victim&redirect_uri=${encodeURIComponent(value)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('redirect_uri is not registered');
      expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [victimSid])).toHaveLength(1);
    });

    it.each([
      ['no client_id', '?redirect_uri=x', 'client_id is required'],
      ['an unknown client_id', '?client_id=nobody', 'not a registered application'],
      ['redirect_uri twice', `?client_id=victim&redirect_uri=${encodeURIComponent(REGISTERED)}&redirect_uri=x`, 'given once'],
    ])('answers %s with an error page and ends nothing', async (_what, query, message) => {
      const res = await victim.request(`${stack.identityUrl}/logout${query}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(message);
      expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [victimSid])).toHaveLength(1);
    });

    it('revokes an oauth_token only when it was issued to the client named by client_id', async () => {
      const res = await api('POST', '/v1/clients', admin, {
        client_id: 'other-app',
        client_name: 'Other',
        redirect_uris: ['http://127.0.0.1:9/other'],
      });
      const other = {
        ...((await res.json()) as { client_id: string; client_secret: string }),
        redirect_uri: 'http://127.0.0.1:9/other',
      };
      const foreign = await signIn(stack.identityUrl, new HttpSession(), other, USER);
      const me = (token: string) => fetch(`${stack.identityUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
      const otherBrowser = new HttpSession();
      await otherBrowser.request(
        `${stack.identityUrl}/logout?client_id=victim&oauth_token=${encodeURIComponent(foreign.accessToken)}`,
      );
      expect((await me(foreign.accessToken)).status).toBe(200);
      await otherBrowser.request(
        `${stack.identityUrl}/logout?client_id=other-app&oauth_token=${encodeURIComponent(foreign.accessToken)}`,
      );
      expect((await me(foreign.accessToken)).status).toBe(401);
    });

    it('redirects to the registered URI exactly as registered', async () => {
      const res = await victim.request(
        `${stack.identityUrl}/logout?client_id=victim&redirect_uri=${encodeURIComponent(REGISTERED)}`,
      );
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(REGISTERED);
      expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [victimSid])).toHaveLength(0);
    });
  });
});
