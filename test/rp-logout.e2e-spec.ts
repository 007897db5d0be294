import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import { freePort, HttpSession, startTestStack, TestStack, waitFor, withPg, FAST_DELIVERY_ENV } from '@slo/testing';
import { browse, hiddenInputs } from './support/browse';
import { RelyingParty, startRelyingParty } from './support/relying-party';

const USER = { email: 'ruth@example.com', password: 'correct horse battery' };

type Key = 'a' | 'b' | 'd';

/**
 * RP-initiated logout (GET and POST, with and without the session cookie) and the logout token's
 * subject, verified with express-openid-connect relying parties: A signs in with offline_access,
 * B shares A's identity session, D is registered with logout_token_subject "sid".
 */
describe('RP-initiated logout and logout-token subjects, with express-openid-connect relying parties', () => {
  let stack: TestStack;
  let admin: string;
  const rps = {} as Record<Key, RelyingParty>;
  const secrets = {} as Record<Key, string>;

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withPg(stack.dbUrl, (c) => c.query(text, params)).then((r) => r.rows as T[]);
  const profile = async (browser: HttpSession, rp: RelyingParty) => (await browser.request(`${rp.url}/profile`)).status;
  const sessionAlive = async (sid: string) =>
    (await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [sid])).length === 1;
  const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

  /** A refresh at the token endpoint, as the app would do it. */
  const refresh = (key: Key, refreshToken: string) =>
    fetch(`${stack.identityUrl}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`rp-${key}:${secrets[key]}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });

  /** The app's tokens in `browser`'s session with it. */
  const tokensOf = async (browser: HttpSession, rp: RelyingParty) =>
    (await (await browser.request(`${rp.url}/tokens`)).json()) as {
      refresh_token: string | null;
      access_token: string | null;
      id_token: string;
    };

  /**
   * One browser signs in to A (offline_access) and B: one identity session. Returns the session and
   * A's refresh token, after proving it works (refreshing once, keeping the rotated token).
   */
  async function signInToAAndB() {
    const browser = new HttpSession({ perOrigin: true });
    await browse(browser, `${rps.a.url}/login`, USER);
    await browse(browser, `${rps.b.url}/login`, USER);
    expect(await profile(browser, rps.a)).toBe(200);
    expect(await profile(browser, rps.b)).toBe(200);
    const a = await tokensOf(browser, rps.a);
    const { sid } = claimsOf(a.id_token) as { sid: string };
    expect(claimsOf((await tokensOf(browser, rps.b)).id_token).sid).toBe(sid);
    expect(a.refresh_token).toEqual(expect.any(String));
    const first = await refresh('a', a.refresh_token!);
    expect(first.status).toBe(200);
    const refreshed = (await first.json()) as { refresh_token?: string };
    return { browser, sid, refreshToken: refreshed.refresh_token ?? a.refresh_token!, idToken: a.id_token };
  }

  /** Both apps were told over their back channel (the deliveries of the event are delivered) and show the user logged out. */
  async function expectAAndBToldOf(sid: string, browser: HttpSession) {
    const event = await waitFor(
      async () =>
        (
          await sql<{ id: string; trigger: string; initiator_client_id: string }>(
            'SELECT id, trigger, initiator_client_id FROM logout_events WHERE sid = $1',
            [sid],
          )
        )[0],
      { what: `the logout event of ${sid}` },
    );
    expect(event).toMatchObject({ trigger: 'rp_initiated', initiator_client_id: 'rp-a' });
    const deliveries = await waitFor(
      async () => {
        const rows = await sql<{ client_id: string; status: string }>(
          'SELECT client_id, status FROM deliveries WHERE event_id = $1 ORDER BY client_id',
          [event.id],
        );
        return rows.length === 2 && rows.every((r) => r.status === 'delivered') ? rows : null;
      },
      { what: 'both back-channel deliveries delivered' },
    );
    expect(deliveries!.map((d) => d.client_id)).toEqual(['rp-a', 'rp-b']);
    // /logout-post leaves the app's own session alone: A logged the user out because it was told.
    expect(await profile(browser, rps.a)).toBe(401);
    expect(await profile(browser, rps.b)).toBe(401);
  }

  /** The refresh token of an offline_access grant is refused once the session ended. */
  async function expectRefreshRefused(refreshToken: string) {
    const res = await refresh('a', refreshToken);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  }

  beforeAll(async () => {
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: { ...FAST_DELIVERY_ENV, LOGOUT_REDIRECT_WAIT_MS: '5000' },
    });
    await stack.start(createWorkerApp);
    await stack.identity.get(UsersService).create({ ...USER, name: 'Ruth' });
    admin = await stack.serverToken('admin');
    for (const key of ['a', 'b', 'd'] as const) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const res = await api('POST', '/v1/clients', {
        client_id: `rp-${key}`,
        client_name: `App ${key.toUpperCase()}`,
        redirect_uris: [`${url}/callback`],
        post_logout_redirect_uris: [url, `${url}/`],
        backchannel_logout_uri: `${url}/backchannel-logout`,
        ...(key === 'd' ? { logout_token_subject: 'sid' } : {}),
      });
      const client = (await res.json()) as { client_secret: string; logout_token_subject: string };
      expect(res.status).toBe(201);
      expect(client.logout_token_subject).toBe(key === 'd' ? 'sid' : 'sid_and_sub');
      secrets[key] = client.client_secret;
      rps[key] = await startRelyingParty({
        issuer: stack.identityUrl,
        clientId: `rp-${key}`,
        clientSecret: client.client_secret,
        port,
        offlineAccess: key === 'a',
      });
    }
  });

  afterAll(async () => {
    for (const rp of Object.values(rps)) await rp?.close();
    await stack?.close();
  });

  describe('RP-initiated logout', () => {
    it('POST to end_session_endpoint with the session cookie: the user confirms, the session ends, both apps are told, the offline_access refresh token is refused', async () => {
      const { browser, sid, refreshToken } = await signInToAAndB();
      // The app's page posts the form to end_session_endpoint (browse submits it as the page's script would).
      const page = await browse(browser, `${rps.a.url}/logout-post`);
      expect(page.res.status).toBe(200);
      expect(page.url).toBe(`${stack.identityUrl}/session/end`);
      expect(page.html).toContain('op.logoutForm');
      expect(page.html).toMatch(/f\.submit\(\)/);
      const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.html)![1];
      const done = await browser.postForm(new URL(action, stack.identityUrl).href, { ...hiddenInputs(page.html), logout: 'yes' });
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe(`${rps.a.url}/?state=rp-state-1`);
      expect(await sessionAlive(sid)).toBe(false);
      await expectAAndBToldOf(sid, browser);
      await expectRefreshRefused(refreshToken);
    });

    it('POST without the session cookie (a cross-site form under SameSite=Lax) ends the session the id_token_hint names, and only that one', async () => {
      const { browser, sid, refreshToken } = await signInToAAndB();
      const other = await signInToAAndB();
      const html = await (await browser.request(`${rps.a.url}/logout-post`)).text();
      const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
      expect(action).toBe(`${stack.identityUrl}/session/end`);
      // No cookie: what a browser sends with a cross-site POST when the session cookie is SameSite=Lax.
      const res = await fetch(action, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(hiddenInputs(html)),
        redirect: 'manual',
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${rps.a.url}/?state=rp-state-1`);
      expect(await sessionAlive(sid)).toBe(false);
      await expectAAndBToldOf(sid, browser);
      await expectRefreshRefused(refreshToken);
      // The user's identity session in the other browser is not the one the hint named: it lives on.
      // (Its apps may still end their side: A and B get sid and sub, see logout_token_subject below.)
      expect(await sessionAlive(other.sid)).toBe(true);
      expect((await refresh('a', other.refreshToken)).status).toBe(200);
    });

    it('GET end_session (express-openid-connect’s own /logout) revokes the offline_access refresh token too', async () => {
      const { browser, sid, refreshToken } = await signInToAAndB();
      const page = await browse(browser, `${rps.a.url}/logout`);
      expect(page.url).toContain('/session/end?');
      const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.html)![1];
      const done = await browser.postForm(new URL(action, stack.identityUrl).href, { ...hiddenInputs(page.html), logout: 'yes' });
      expect(done.status).toBe(303);
      expect(await sessionAlive(sid)).toBe(false);
      await waitFor(async () => (await profile(browser, rps.b)) === 401, { what: 'app B told' });
      await expectRefreshRefused(refreshToken);
    });

    it('GET without the session cookie ends the session its id_token_hint names as well', async () => {
      const { sid, refreshToken, idToken } = await signInToAAndB();
      const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: `${rps.a.url}/` });
      const res = await fetch(`${stack.identityUrl}/session/end?${query}`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${rps.a.url}/`);
      expect(await sessionAlive(sid)).toBe(false);
      await expectRefreshRefused(refreshToken);
    });

    it('a cookie-less POST ends nothing when its id_token_hint is forged or names a session that already ended', async () => {
      const { browser, sid, idToken } = await signInToAAndB();
      const [h, , s] = idToken.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ ...claimsOf(idToken), sub: 'someone-else' })).toString('base64url');
      const post = (form: Record<string, string>) =>
        fetch(`${stack.identityUrl}/session/end`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form),
          redirect: 'manual',
        });
      const forged = await post({ id_token_hint: `${h}.${forgedPayload}.${s}` });
      expect(forged.status).toBe(400);
      expect(await forged.text()).toContain('could not validate id_token_hint');
      expect(await sessionAlive(sid)).toBe(true);

      // The session ends through the browser's own logout; the old hint then has nothing left to end.
      expect((await browser.request(`${stack.identityUrl}/logout?client_id=rp-a`)).status).toBe(303);
      const events = async () => (await sql('SELECT 1 FROM logout_events WHERE sid = $1', [sid])).length;
      expect(await events()).toBe(1);
      const stale = await post({ id_token_hint: idToken });
      expect(stale.status).toBe(200);
      expect(await stale.text()).toContain('name="logout"');
      expect(await events()).toBe(1);
    });

    it('answers a POST whose body is not a form with a 400 naming the problem', async () => {
      const res = await fetch(`${stack.identityUrl}/session/end`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"id_token_hint":"x"}',
      });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('x-www-form-urlencoded bodies are accepted on POST');
    });
  });

  describe('logout_token_subject', () => {
    /** The same user signs in to `rp` in two browsers: two identity sessions, two sessions in the app. */
    async function twoDevices(rp: RelyingParty) {
      const browsers = [new HttpSession({ perOrigin: true }), new HttpSession({ perOrigin: true })];
      for (const b of browsers) {
        await browse(b, `${rp.url}/login`, USER);
        expect(await profile(b, rp)).toBe(200);
      }
      const tokens = await Promise.all(browsers.map((b) => tokensOf(b, rp)));
      const sids = tokens.map((t) => claimsOf(t.id_token).sid as string);
      expect(sids[0]).not.toBe(sids[1]);
      return { browsers, tokens, sids };
    }

    /** API logout of the first device, with the app's access token of that device; returns the logout token the app received. */
    async function apiLogoutOfFirstDevice(rp: RelyingParty, accessToken: string): Promise<Record<string, unknown>> {
      const before = rp.logoutTokens.length;
      const res = await fetch(`${stack.identityUrl}/api/2/logout`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ logged_out: true, scope: 'app' });
      await waitFor(() => rp.logoutTokens.length === before + 1 && rp.backchannelHits.length === before + 1, {
        what: `${rp.clientId} told`,
      });
      expect(rp.backchannelHits.at(-1)).toBe(204);
      return claimsOf(rp.logoutTokens.at(-1)!);
    }

    it('a sid-only client receives sid without sub; express-openid-connect accepts it and ends only that device’s session', async () => {
      const { browsers, tokens, sids } = await twoDevices(rps.d);
      const claims = await apiLogoutOfFirstDevice(rps.d, tokens[0].access_token!);
      expect(claims).toMatchObject({ aud: 'rp-d', sid: sids[0] });
      expect(claims).not.toHaveProperty('sub');
      expect(await profile(browsers[0], rps.d)).toBe(401);
      expect(await profile(browsers[1], rps.d)).toBe(200);
    });

    it('the default (sid_and_sub) still names both, and express-openid-connect then ends every session of the user', async () => {
      const { browsers, tokens, sids } = await twoDevices(rps.b);
      const claims = await apiLogoutOfFirstDevice(rps.b, tokens[0].access_token!);
      expect(claims).toMatchObject({ aud: 'rp-b', sid: sids[0], sub: expect.any(String) });
      expect(await profile(browsers[0], rps.b)).toBe(401);
      // What the sid-only setting is for: this receiver ends the other device's session too.
      expect(await profile(browsers[1], rps.b)).toBe(401);
    });

    it('a logout of every session still names sub for a sid-only client that does not require sid', async () => {
      expect((await api('PATCH', '/v1/clients/rp-d', { backchannel_logout_session_required: false })).status).toBe(200);
      try {
        const { browsers, sids } = await twoDevices(rps.d);
        const sub = claimsOf((await tokensOf(browsers[0], rps.d)).id_token).sub;
        const before = rps.d.logoutTokens.length;
        expect((await api('DELETE', `/v1/users/${encodeURIComponent(sub as string)}/sessions`)).status).toBe(202);
        await waitFor(() => rps.d.logoutTokens.length > before, { what: 'rp-d told' });
        const claims = claimsOf(rps.d.logoutTokens.at(-1)!);
        expect(claims).toMatchObject({ sub });
        expect(claims).not.toHaveProperty('sid');
        for (const b of browsers) expect(await profile(b, rps.d)).toBe(401);
        expect(await sessionAlive(sids[1])).toBe(false);
      } finally {
        await api('PATCH', '/v1/clients/rp-d', { backchannel_logout_session_required: true });
      }
    });

    it('is shown, changed and validated through the api', async () => {
      expect(((await (await api('GET', '/v1/clients/rp-a')).json()) as Record<string, unknown>).logout_token_subject).toBe(
        'sid_and_sub',
      );
      const changed = await api('PATCH', '/v1/clients/rp-a', { logout_token_subject: 'sid' });
      expect(changed.status).toBe(200);
      expect(((await changed.json()) as Record<string, unknown>).logout_token_subject).toBe('sid');
      const back = await api('PATCH', '/v1/clients/rp-a', { logout_token_subject: 'sid_and_sub' });
      expect(((await back.json()) as Record<string, unknown>).logout_token_subject).toBe('sid_and_sub');
      const bad = await api('PATCH', '/v1/clients/rp-a', { logout_token_subject: 'sub' });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain('logout_token_subject');
    });
  });
});
