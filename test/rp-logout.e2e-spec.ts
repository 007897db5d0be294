import { apiClient, HttpSession, waitFor } from '@slo/testing';
import { browse, hiddenInputs } from './support/browse';
import { confirmLogout, deliveredOf, LogoutStack, profile, sessionAlive, startLogoutStack } from './support/browser-logout';
import { claimsOf, tokenRequest } from './support/oidc';
import { RelyingParty, startRelyingParty } from './support/relying-party';

const USER = { email: 'ruth@example.com', password: 'correct horse battery', name: 'Ruth' };

type Key = 'a' | 'b' | 'd';

/**
 * RP-initiated logout (GET and POST, with and without the session cookie) and the logout token's
 * subject, verified with express-openid-connect relying parties: A signs in with offline_access,
 * B shares A's identity session, D is registered with logout_token_subject "sid".
 */
describe('RP-initiated logout and logout-token subjects, with express-openid-connect relying parties', () => {
  let t: LogoutStack;
  const rps = {} as Record<Key, RelyingParty>;

  /** A refresh at the token endpoint, as the app would do it. */
  const refresh = (key: Key, refreshToken: string) =>
    tokenRequest(t.stack.identityUrl, rps[key].client, { grant_type: 'refresh_token', refresh_token: refreshToken });

  /** The app's tokens in `browser`'s session with it. */
  const tokensOf = async (browser: HttpSession, rp: RelyingParty) =>
    (await (await browser.request(`${rp.url}/tokens`)).json()) as {
      refresh_token: string | null;
      access_token: string | null;
      id_token: string;
    };

  /** A cookie-less form POST to end_session_endpoint: what a cross-site POST carries when the session cookie is SameSite=Lax. */
  const postEndSession = (form: Record<string, string>, url = `${t.stack.identityUrl}/session/end`) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      redirect: 'manual',
    });

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
          await t.db<{ id: string; trigger: string; initiator_client_id: string }>(
            'SELECT id, trigger, initiator_client_id FROM logout_events WHERE sid = $1',
            [sid],
          )
        )[0],
      { what: `the logout event of ${sid}` },
    );
    expect(event).toMatchObject({ trigger: 'rp_initiated', initiator_client_id: 'rp-a' });
    expect((await deliveredOf(t.stack, event.id)).map((d) => d.client_id)).toEqual(['rp-a', 'rp-b']);
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
    t = await startLogoutStack(USER, { LOGOUT_REDIRECT_WAIT_MS: '5000' });
    for (const key of ['a', 'b', 'd'] as const) {
      const extra = key === 'd' ? { logout_token_subject: 'sid' } : {};
      rps[key] = await startRelyingParty(t.admin, t.stack.identityUrl, `rp-${key}`, { extra, offlineAccess: key === 'a' });
      expect(rps[key].client.logout_token_subject).toBe(key === 'd' ? 'sid' : 'sid_and_sub');
    }
  });

  afterAll(async () => {
    for (const rp of Object.values(rps)) await rp?.close();
    await t?.stack.close();
  });

  describe('RP-initiated logout', () => {
    it('POST to end_session_endpoint with the session cookie: the user confirms, the session ends, both apps are told, the offline_access refresh token is refused', async () => {
      const { browser, sid, refreshToken } = await signInToAAndB();
      // The app's page posts the form to end_session_endpoint (browse submits it as the page's script would).
      const page = await browse(browser, `${rps.a.url}/logout-post`);
      expect(page.res.status).toBe(200);
      expect(page.url).toBe(`${t.stack.identityUrl}/session/end`);
      expect(page.html).toContain('op.logoutForm');
      expect(page.html).toMatch(/f\.submit\(\)/);
      const done = await confirmLogout(browser, page);
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe(`${rps.a.url}/?state=rp-state-1`);
      expect(await sessionAlive(t.db, sid)).toBe(false);
      await expectAAndBToldOf(sid, browser);
      await expectRefreshRefused(refreshToken);
    });

    it('POST without the session cookie (a cross-site form under SameSite=Lax) ends the session the id_token_hint names, and only that one', async () => {
      const { browser, sid, refreshToken } = await signInToAAndB();
      const other = await signInToAAndB();
      const html = await (await browser.request(`${rps.a.url}/logout-post`)).text();
      const action = /<form method="post" action="([^"]+)"/.exec(html)![1];
      expect(action).toBe(`${t.stack.identityUrl}/session/end`);
      const res = await postEndSession(hiddenInputs(html), action);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${rps.a.url}/?state=rp-state-1`);
      expect(await sessionAlive(t.db, sid)).toBe(false);
      await expectAAndBToldOf(sid, browser);
      await expectRefreshRefused(refreshToken);
      // The user's identity session in the other browser is not the one the hint named: it lives on.
      // (Its apps may still end their side: A and B get sid and sub, see logout_token_subject below.)
      expect(await sessionAlive(t.db, other.sid)).toBe(true);
      expect((await refresh('a', other.refreshToken)).status).toBe(200);
    });

    it('GET end_session (express-openid-connect’s own /logout) revokes the offline_access refresh token too', async () => {
      const { browser, sid, refreshToken } = await signInToAAndB();
      const page = await browse(browser, `${rps.a.url}/logout`);
      expect(page.url).toContain('/session/end?');
      expect((await confirmLogout(browser, page)).status).toBe(303);
      expect(await sessionAlive(t.db, sid)).toBe(false);
      await waitFor(async () => (await profile(browser, rps.b)) === 401, { what: 'app B told' });
      await expectRefreshRefused(refreshToken);
    });

    it('GET without the session cookie ends the session its id_token_hint names as well', async () => {
      const { sid, refreshToken, idToken } = await signInToAAndB();
      const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: `${rps.a.url}/` });
      const res = await fetch(`${t.stack.identityUrl}/session/end?${query}`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${rps.a.url}/`);
      expect(await sessionAlive(t.db, sid)).toBe(false);
      await expectRefreshRefused(refreshToken);
    });

    it('a cookie-less POST ends nothing when its id_token_hint is forged or names a session that already ended', async () => {
      const { browser, sid, idToken } = await signInToAAndB();
      const [h, , s] = idToken.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ ...claimsOf(idToken), sub: 'someone-else' })).toString('base64url');
      const forged = await postEndSession({ id_token_hint: `${h}.${forgedPayload}.${s}` });
      expect(forged.status).toBe(400);
      expect(await forged.text()).toContain('could not validate id_token_hint');
      expect(await sessionAlive(t.db, sid)).toBe(true);

      // The session ends through the browser's own logout; the old hint then has nothing left to end.
      expect((await browser.request(`${t.stack.identityUrl}/logout?client_id=rp-a`)).status).toBe(303);
      const events = async () => (await t.db('SELECT 1 FROM logout_events WHERE sid = $1', [sid])).length;
      expect(await events()).toBe(1);
      const stale = await postEndSession({ id_token_hint: idToken });
      expect(stale.status).toBe(200);
      expect(await stale.text()).toContain('name="logout"');
      expect(await events()).toBe(1);
    });

    it('answers a POST whose body is not a form with a 400 naming the problem', async () => {
      const answer = await apiClient(t.stack.identityUrl).post<string>('/session/end', {
        body: '{"id_token_hint":"x"}',
        expect: 400,
      });
      expect(answer).toContain('x-www-form-urlencoded bodies are accepted on POST');
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
      const sids = tokens.map((tk) => claimsOf(tk.id_token).sid as string);
      expect(sids[0]).not.toBe(sids[1]);
      return { browsers, tokens, sids };
    }

    /** API logout of the first device, with the app's access token of that device; returns the logout token the app received. */
    async function apiLogoutOfFirstDevice(rp: RelyingParty, accessToken: string): Promise<Record<string, unknown>> {
      const before = rp.logoutTokens.length;
      const body = await apiClient(t.stack.identityUrl, accessToken).post('/api/2/logout', { expect: 200 });
      expect(body).toMatchObject({ logged_out: true, scope: 'app' });
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
      await t.admin.patch('/v1/clients/rp-d', { body: { backchannel_logout_session_required: false }, expect: 200 });
      try {
        const { browsers, sids } = await twoDevices(rps.d);
        const sub = claimsOf((await tokensOf(browsers[0], rps.d)).id_token).sub as string;
        const before = rps.d.logoutTokens.length;
        await t.admin.delete(`/v1/users/${encodeURIComponent(sub)}/sessions`, { expect: 202 });
        await waitFor(() => rps.d.logoutTokens.length > before, { what: 'rp-d told' });
        const claims = claimsOf(rps.d.logoutTokens.at(-1)!);
        expect(claims).toMatchObject({ sub });
        expect(claims).not.toHaveProperty('sid');
        for (const b of browsers) expect(await profile(b, rps.d)).toBe(401);
        expect(await sessionAlive(t.db, sids[1])).toBe(false);
      } finally {
        await t.admin.patch('/v1/clients/rp-d', { body: { backchannel_logout_session_required: true }, expect: 200 });
      }
    });

    it('is shown, changed and validated through the api', async () => {
      const patch = (value: string, status: number) =>
        t.admin.patch('/v1/clients/rp-a', { body: { logout_token_subject: value }, expect: status });
      expect((await t.admin.get('/v1/clients/rp-a', { expect: 200 })).logout_token_subject).toBe('sid_and_sub');
      expect((await patch('sid', 200)).logout_token_subject).toBe('sid');
      expect((await patch('sid_and_sub', 200)).logout_token_subject).toBe('sid_and_sub');
      expect(JSON.stringify(await patch('sub', 400))).toContain('logout_token_subject');
    });
  });
});
