import { apiClient, HttpSession, Receiver, registerClient, RegisteredClient, signIn, waitFor } from '@slo/testing';
import { browse } from './support/browse';
import { confirmLogout, deliveredOf, LogoutStack, profile, sessionAlive, startLogoutStack } from './support/browser-logout';
import { claimsOf, tokenRequest } from './support/oidc';
import { RelyingParty, startRelyingParty } from './support/relying-party';

const USER = { email: 'lin@example.com', password: 'correct horse battery', name: 'Lin' };

describe('logout flows, verified with express-openid-connect relying parties', () => {
  let t: LogoutStack;
  const rps = {} as Record<'a' | 'b' | 'c', RelyingParty>;

  /** Browser 1 signs in to apps A and B (one identity session); browser 2, the same user, to app C. */
  async function signInEverywhere() {
    const one = new HttpSession({ perOrigin: true });
    const two = new HttpSession({ perOrigin: true });
    await browse(one, `${rps.a.url}/login`, USER);
    await browse(one, `${rps.b.url}/login`, USER);
    await browse(two, `${rps.c.url}/login`, USER);
    expect([await profile(one, rps.a), await profile(one, rps.b), await profile(two, rps.c)]).toEqual([200, 200, 200]);
    const a = (await (await one.request(`${rps.a.url}/profile`)).json()) as { sid: string; sub: string };
    const b = (await (await one.request(`${rps.b.url}/profile`)).json()) as { sid: string };
    expect(b.sid).toBe(a.sid);
    return { one, two, sid: a.sid, sub: a.sub };
  }

  /** A and B were told (their back channel answered 204, recorded as delivered) and show the user logged out; C was not told. */
  async function expectSharedSessionLoggedOut(one: HttpSession, two: HttpSession, eventId: string, trigger: string) {
    const deliveries = await deliveredOf(t.stack, eventId);
    expect(deliveries.map(({ client_id, status, last_status_code }) => ({ client_id, status, last_status_code }))).toEqual([
      { client_id: 'rp-a', status: 'delivered', last_status_code: 204 },
      { client_id: 'rp-b', status: 'delivered', last_status_code: 204 },
    ]);
    expect(await triggerOf(eventId)).toBe(trigger);
    expect(await profile(one, rps.a)).toBe(401);
    expect(await profile(one, rps.b)).toBe(401);
    expect(await profile(two, rps.c)).toBe(200);
  }

  const triggerOf = async (eventId: string) =>
    (await t.db<{ trigger: string }>('SELECT trigger FROM logout_events WHERE id = $1', [eventId]))[0].trigger;
  const latestEvent = async () => (await t.db<{ id: string }>('SELECT id FROM logout_events ORDER BY id DESC LIMIT 1'))[0].id;
  const logoutUrl = (clientId: string, back: string) =>
    `${t.stack.identityUrl}/logout?client_id=${clientId}&redirect_uri=${encodeURIComponent(back)}`;

  beforeAll(async () => {
    t = await startLogoutStack(USER, { LOGOUT_REDIRECT_WAIT_MS: '5000', SESSION_EXPIRY_SWEEP_SECONDS: '1' });
    for (const key of ['a', 'b', 'c'] as const) rps[key] = await startRelyingParty(t.admin, t.stack.identityUrl, `rp-${key}`);
  });

  afterAll(async () => {
    for (const rp of Object.values(rps)) await rp?.close();
    await t?.stack.close();
  });

  it('advertises back-channel and front-channel logout and the end_session endpoint', async () => {
    expect(await apiClient(t.stack.identityUrl).get('/.well-known/openid-configuration', { expect: 200 })).toMatchObject({
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
      end_session_endpoint: `${t.stack.identityUrl}/session/end`,
    });
  });

  it('redirect flow: GET /logout ends the session, and with LOGOUT_REDIRECT_WAIT_MS the apps are told before the redirect', async () => {
    const { one, two } = await signInEverywhere();
    const back = `${rps.a.url}/`;
    const res = await one.request(logoutUrl('rp-a', back));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(back);
    // No waiting here: the redirect itself waited for the deliveries.
    expect(await profile(one, rps.b)).toBe(401);
    await expectSharedSessionLoggedOut(one, two, await latestEvent(), 'user_logout');

    // Logging out again is not an error: still a redirect.
    expect((await one.request(logoutUrl('rp-a', back))).status).toBe(303);
  });

  it('RP-initiated logout: end_session with a valid id_token_hint confirms itself and records the logout before redirecting', async () => {
    const { one, two } = await signInEverywhere();
    const page = await browse(one, `${rps.a.url}/logout`);
    expect(page.url).toContain('/session/end');
    expect(page.html).toContain('op.logoutForm');
    expect(page.html).toMatch(/f\.submit\(\)/);
    const done = await confirmLogout(one, page);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toMatch(new RegExp(`^${rps.a.url}/?$`));
    await expectSharedSessionLoggedOut(one, two, await latestEvent(), 'rp_initiated');
  });

  it('RP-initiated logout without id_token_hint asks the user to confirm', async () => {
    const { one } = await signInEverywhere();
    const page = await browse(one, `${t.stack.identityUrl}/session/end?client_id=rp-a`);
    expect(page.res.status).toBe(200);
    expect(page.html).toContain('Sign out?');
    expect(page.html).not.toMatch(/f\.submit\(\)/);
    expect(await profile(one, rps.b)).toBe(200);
  });

  it('admin end-session on the api ends that one session and tells its apps', async () => {
    const { one, two, sid } = await signInEverywhere();
    const path = `/v1/sessions/${encodeURIComponent(sid)}`;
    const { event_id } = await t.admin.delete<{ event_id: string }>(path, { expect: 202 });
    await expectSharedSessionLoggedOut(one, two, event_id, 'admin_revoke');
    await t.admin.delete(path, { expect: 404 });
    await t.admin.as(await t.stack.serverToken('client:self')).delete('/v1/sessions/x', { expect: 403 });
  });

  it('admin all-sessions ends every session of the user, and every app is told', async () => {
    const { one, two, sub } = await signInEverywhere();
    const { event_id } = await t.admin.delete<{ event_id: string }>(`/v1/users/${encodeURIComponent(sub)}/sessions`, {
      expect: 202,
    });
    // The three deliveries run concurrently: wait for every app, not only the first to finish.
    await waitFor(
      async () =>
        (await profile(two, rps.c)) === 401 && (await profile(one, rps.a)) === 401 && (await profile(one, rps.b)) === 401,
      { what: 'apps A, B and C logged out' },
    );
    expect(await triggerOf(event_id)).toBe('all_sessions');
  });

  it('session expiry: the sweep records a session_expired logout, told only to clients that want it', async () => {
    await t.admin.patch('/v1/clients/rp-b', { body: { notify_session_expired: false }, expect: 200 });
    try {
      const { one, two, sid } = await signInEverywhere();
      await t.db("UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE model = 'Session' AND uid = $1", [sid]);
      const event = await waitFor(
        async () =>
          (await t.db<{ id: string }>("SELECT id FROM logout_events WHERE trigger = 'session_expired' AND sid = $1", [sid]))[0],
        { what: 'the expiry sweep', timeoutMs: 15_000 },
      );
      const deliveries = await deliveredOf(t.stack, event.id);
      expect(deliveries.map(({ client_id, status }) => ({ client_id, status }))).toEqual([
        { client_id: 'rp-a', status: 'delivered' },
      ]);
      expect(await profile(one, rps.a)).toBe(401);
      expect(await profile(two, rps.c)).toBe(200);
    } finally {
      await t.admin.patch('/v1/clients/rp-b', { body: { notify_session_expired: true }, expect: 200 });
    }
  });

  describe('API logout for mobile apps', () => {
    let mobile: RegisteredClient;
    const logoutWith = (token: string, status: number, query = '', method = 'POST') =>
      apiClient(t.stack.identityUrl, token).send(method, `/api/2/logout${query}`, { expect: status });
    const me = (token: string, status: number) => apiClient(t.stack.identityUrl, token).get('/me', { expect: status });

    beforeAll(async () => {
      mobile = await registerClient(t.admin, null, 'mobile');
    });

    it('revokes that app’s tokens only; the user’s other apps stay signed in', async () => {
      const { one, two, sid } = await signInEverywhere();
      // The app's login shares the browser's identity session with apps A and B: only the app's login ends.
      const app = await signIn(t.stack, one, mobile, USER);
      expect(app.sid).toBe(sid);
      const { body } = await logoutWith(app.accessToken, 200);
      expect(body).toMatchObject({ logged_out: true, scope: 'app' });
      // The identity session lives on and apps A and B are not told.
      expect(await sessionAlive(t.db, sid)).toBe(true);
      expect(await t.db('SELECT client_id FROM deliveries WHERE event_id = $1', [body.event_id])).toEqual([]);
      await me(app.accessToken, 401);
      const refresh = await tokenRequest(t.stack.identityUrl, mobile, {
        grant_type: 'refresh_token',
        refresh_token: app.refreshToken!,
      });
      expect(refresh.status).toBe(400);
      expect(await profile(one, rps.a)).toBe(200);
      expect(await profile(one, rps.b)).toBe(200);
      expect(await profile(two, rps.c)).toBe(200);
      // GET works too, as the original endpoint allowed; a revoked token is refused.
      await logoutWith(app.accessToken, 401, '', 'GET');
    });

    it('tells the app’s own back channel, when it has one', async () => {
      const receiver = await Receiver.start();
      try {
        await t.admin.patch('/v1/clients/mobile', { body: { backchannel_logout_uri: `${receiver.url}/bcl` }, expect: 200 });
        const app = await signIn(t.stack, new HttpSession(), mobile, USER);
        const { event_id } = (await logoutWith(app.accessToken, 200)).body;
        await waitFor(() => receiver.received('/bcl').length === 1, { what: 'the mobile back channel' });
        expect(claimsOf(receiver.received('/bcl')[0].logoutToken!)).toMatchObject({ aud: 'mobile', sub: app.sub });
        const rows = await t.db<{ client_id: string }>('SELECT client_id FROM deliveries WHERE event_id = $1', [event_id]);
        expect(rows).toEqual([{ client_id: 'mobile' }]);
      } finally {
        await t.admin.patch('/v1/clients/mobile', { body: { backchannel_logout_uri: null }, expect: 200 });
        await receiver.close();
      }
    });

    it('lets an admin server token log a user out of every session and device', async () => {
      const { one, two, sub } = await signInEverywhere();
      const app = await signIn(t.stack, new HttpSession(), mobile, USER);
      const { body } = await logoutWith(t.admin.token!, 200, `?sub=${encodeURIComponent(sub)}`);
      expect(body).toMatchObject({ scope: 'all_sessions' });
      await me(app.accessToken, 401);
      await waitFor(async () => (await profile(one, rps.a)) === 401 && (await profile(two, rps.c)) === 401, {
        what: 'every app logged out',
      });
    });

    it('refuses a missing, unknown or under-scoped token', async () => {
      await apiClient(t.stack.identityUrl).post('/api/2/logout', { expect: 401 });
      await logoutWith('not-a-token', 401);
      await logoutWith(await t.stack.serverToken('client:self'), 401, '?sub=x');
    });
  });
});
