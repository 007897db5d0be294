import { apiClient, HttpSession, registerClient, signIn } from '@slo/testing';
import { LogoutStack, sessionAlive, startLogoutStack } from './support/browser-logout';

const USER = { email: 'lin@example.com', password: 'correct horse battery', name: 'Lin' };

describe("identity's browser-facing logout endpoints: the SDK's, the front-channel page, the redirect flow's refusals", () => {
  let t: LogoutStack;

  beforeAll(async () => {
    t = await startLogoutStack(USER, { LOGOUT_REDIRECT_WAIT_MS: '5000' });
  });
  afterAll(() => t?.stack.close());

  describe('browser endpoints for the JavaScript SDK', () => {
    const ORIGIN = 'http://shop.example.test';
    const browser = new HttpSession();
    const url = (path: string) => `${t.stack.identityUrl}/api/2/session${path}?client_id=web-sdk`;
    const status = (origin: string) => browser.request(url(''), { headers: { origin } });
    const logout = (headers: Record<string, string>) => browser.request(url('/logout'), { method: 'POST', headers });

    beforeAll(async () => {
      await signIn(t.stack, browser, await registerClient(t.admin, null, 'web-sdk', { web_origins: [ORIGIN] }), USER);
    });

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
        fetch(url('/logout'), {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-spid-request' },
        });
      const ok = await preflight(ORIGIN);
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-headers')).toContain('x-spid-request');
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    });

    it('refuses a logout without the SDK header (a cross-site form cannot send it) or from a foreign origin', async () => {
      expect((await logout({ origin: ORIGIN })).status).toBe(403);
      expect((await logout({ origin: 'https://evil.example', 'x-spid-request': '1' })).status).toBe(403);
      expect(await (await status(ORIGIN)).json()).toMatchObject({ logged_in: true });
    });

    it('logs out through the SDK endpoint', async () => {
      const res = await logout({ origin: ORIGIN, 'x-spid-request': '1' });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ logged_out: true });
      expect(await (await status(ORIGIN)).json()).toMatchObject({ logged_in: false, user_id: null });
    });
  });

  it('front-channel logout: the signed-out page embeds an iframe with iss and sid for each front-channel client', async () => {
    const fc = await registerClient(t.admin, null, 'fc-app', { frontchannel_logout_uri: 'http://127.0.0.1:9/fc/logout?x=1' });
    const browser = new HttpSession();
    const { sid } = await signIn(t.stack, browser, fc, USER);
    const page = await browser.request(
      `${t.stack.identityUrl}/logout?client_id=fc-app&redirect_uri=${encodeURIComponent(fc.redirect_uri)}`,
    );
    expect(page.status).toBe(200);
    const html = await page.text();
    const src = /<iframe class="fc" src="([^"]+)"/
      .exec(html)![1]
      .replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d)));
    const frame = new URL(src);
    expect(frame.origin + frame.pathname).toBe('http://127.0.0.1:9/fc/logout');
    expect(Object.fromEntries(frame.searchParams)).toEqual({ x: '1', iss: t.stack.identityUrl, sid });
    expect(html).toContain('id="continue"');
  });

  describe('the redirect flow refuses what it must', () => {
    const REGISTERED = 'https://app.example.com/after-logout';
    const victim = new HttpSession();
    let victimSid: string;
    const logout = (query: string) => victim.request(`${t.stack.identityUrl}/logout${query}`);

    beforeAll(async () => {
      const client = await registerClient(t.admin, null, 'victim', {
        redirect_uris: ['https://app.example.com/cb'],
        post_logout_redirect_uris: [REGISTERED],
      });
      // A session of its own that no refused request may end.
      victimSid = (await signIn(t.stack, victim, client, USER)).sid;
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
      const res = await logout(`?client_id=victim&redirect_uri=${encodeURIComponent(value)}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('redirect_uri is not registered');
      expect(await sessionAlive(t.db, victimSid)).toBe(true);
    });

    it.each([
      ['no client_id', '?redirect_uri=x', 'client_id is required'],
      ['an unknown client_id', '?client_id=nobody', 'not a registered application'],
      ['redirect_uri twice', `?client_id=victim&redirect_uri=${encodeURIComponent(REGISTERED)}&redirect_uri=x`, 'given once'],
    ])('answers %s with an error page and ends nothing', async (_what, query, message) => {
      const res = await logout(query);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain(message);
      expect(await sessionAlive(t.db, victimSid)).toBe(true);
    });

    it('revokes an oauth_token only when it was issued to the client named by client_id', async () => {
      const other = await registerClient(t.admin, null, 'other-app');
      const foreign = await signIn(t.stack, new HttpSession(), other, USER);
      const me = apiClient(t.stack.identityUrl, foreign.accessToken);
      const otherBrowser = new HttpSession();
      const logoutWith = (clientId: string) =>
        otherBrowser.request(
          `${t.stack.identityUrl}/logout?client_id=${clientId}&oauth_token=${encodeURIComponent(foreign.accessToken)}`,
        );
      await logoutWith('victim');
      await me.get('/me', { expect: 200 });
      await logoutWith('other-app');
      await me.get('/me', { expect: 401 });
    });

    it('redirects to the registered URI exactly as registered', async () => {
      const res = await logout(`?client_id=victim&redirect_uri=${encodeURIComponent(REGISTERED)}`);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(REGISTERED);
      expect(await sessionAlive(t.db, victimSid)).toBe(false);
    });
  });
});
