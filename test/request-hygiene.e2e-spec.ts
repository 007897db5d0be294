import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import {
  ApiClient,
  apiClient,
  basicAuth,
  HttpSession,
  RegisteredClient,
  registerClient,
  signIn,
  startTestStack,
  TEST_ADMIN,
  TestStack,
} from '@slo/testing';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

const USER = { email: 'hygiene@example.com', password: 'hygiene password 1' };
const REDIRECT = 'http://127.0.0.1:9/callback';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface ErrorJson {
  error: string;
  message: string;
  details?: { field: string; problems: string[] }[];
  error_description?: string;
}

/** The classes of bad input of issue 11, one by one: each a 4xx that names the problem, HTML for people, JSON for programs. */
describe('request hygiene', () => {
  let stack: TestStack;
  let admin: ApiClient;
  let rp: RegisteredClient;

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Hy' });
    admin = stack.client(await stack.serverToken('admin client:self logout:emit'));
    rp = await registerClient(admin, null, 'hygiene-rp', { client_name: 'Hygiene', redirect_uris: [REDIRECT] });
  });
  afterAll(() => stack?.close());

  describe('api', () => {
    const get = (path: string, expect: number) => admin.get<ErrorJson>(path, { expect });
    const post = (path: string, body: unknown, expect: number, headers?: Record<string, string>) =>
      admin.post<ErrorJson>(path, { body, expect, headers });
    /** A POST of raw bytes (the ApiClient sends strings raw and anything else as JSON). */
    const postBytes = async (path: string, body: Buffer, headers: Record<string, string>) => {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json', ...headers },
        body,
      });
      return { status: res.status, body: (await res.json()) as ErrorJson };
    };

    it('refuses control characters in the path, query and JSON keys and values, naming the field', async () => {
      expect(await get('/v1/logout-events?sub=a%00b', 400)).toMatchObject({
        error: 'validation_failed',
        message: 'sub: contains the control character U+0000',
        details: [{ field: 'sub', problems: ['contains the control character U+0000'] }],
      });
      expect((await get('/v1/clients/a%00b', 400)).details).toEqual([
        { field: 'path', problems: ['contains the control character U+0000'] },
      ]);
      const inValue = await post('/v1/clients', { client_name: 'ok', redirect_uris: ['https://a.example/cb', 'x\u0001'] }, 400);
      expect(inValue.details).toEqual([{ field: 'redirect_uris[1]', problems: ['contains the control character U+0001'] }]);
      const inKey = await post('/v1/clients', '{"client_name":"ok","a\\u0000":1}', 400);
      expect(inKey.message).toMatch(/field name contains the control character U\+0000/);
      const lone = await admin.patch<ErrorJson>('/v1/clients/hygiene-rp', { body: '{"client_name":"\\ud800"}', expect: 400 });
      expect(lone.message).toBe('client_name: is not well-formed Unicode (a lone surrogate)');

      // A line break in free text is fine.
      await post('/v1/clients/hygiene-rp/disable', { reason: 'line one\nline two' }, 200);
      await post('/v1/clients/hygiene-rp/enable', {}, 200);
    });

    it('refuses bad percent-encoding in the path and the query', async () => {
      const query = await get('/v1/deliveries?client_id=%E0%A4%A', 400);
      expect(query).toMatchObject({ message: 'client_id: is not valid percent-encoded UTF-8' });
      expect((await get('/v1/clients/%zz', 400)).message).toBe('path: is not valid percent-encoded UTF-8');
    });

    it('accepts only real instants as dates', async () => {
      for (const bad of [
        '2024-W01',
        '2024-01-01T00:00:00,5Z',
        '2024-02-30T00:00:00Z',
        '2024-01-01T24:00:00Z',
        '2024-01-01T12:00:00',
      ]) {
        const list = await admin.send<ErrorJson>('GET', `/v1/deliveries?since=${encodeURIComponent(bad)}`, { expect: 400 });
        expect([bad, list.status]).toEqual([bad, 400]);
        expect(list.body.details).toEqual([{ field: 'since', problems: [expect.stringContaining('RFC 3339')] }]);
      }
      for (const [path, body, field] of [
        ['/v1/clients/hygiene-rp/recover', { since: '2024-W01' }, 'since'],
        ['/v1/clients/hygiene-rp/enable', { recover_since: '2024-01-01T00:00:00,5Z' }, 'recover_since'],
        ['/v1/retries', { since: '2024-001' }, 'since'],
        ['/v1/logout-events', { sub: 'u1', occurred_at: '2024-W01-1' }, 'occurred_at'],
      ] as const) {
        expect((await post(path, body, 400)).details?.[0].field).toBe(field);
      }
      for (const good of ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00.123456+01:00', '2024-02-29']) {
        const list = await admin.send('GET', `/v1/deliveries?since=${encodeURIComponent(good)}`, { expect: 200 });
        expect([good, list.status]).toEqual([good, 200]);
      }
    });

    it('refuses deep and huge JSON, and answers body and decompression errors by their status', async () => {
      const deep = await post('/v1/clients', '['.repeat(3000) + ']'.repeat(3000), 400);
      expect(deep.message).toBe('body: JSON is nested deeper than 32 levels');
      const huge = await post('/v1/clients', { client_name: 'x'.repeat(stack.config.http.bodyLimitBytes) }, 413);
      expect(huge.error).toBe('payload_too_large');

      const garbage = await postBytes('/v1/clients', randomBytes(64), { 'content-encoding': 'gzip' });
      expect(garbage.status).toBe(400);
      expect(garbage.body.message).toMatch(/^request could not be read: /);
      await post('/v1/clients', '{}', 415, { 'content-encoding': 'nope' });
      const text = await post('/v1/clients', '{"client_name":"x"}', 415, { 'content-type': 'text/plain' });
      expect(text.message).toBe(
        'Content-Type text/plain is not supported; send application/json or application/x-www-form-urlencoded',
      );

      // A real gzip body still works.
      const gzipped = await postBytes('/v1/clients', gzipSync(JSON.stringify({ client_name: 'Zipped' })), {
        'content-encoding': 'gzip',
      });
      expect(gzipped.status).toBe(201);
    });

    it('validates UUIDs and cursors for real', async () => {
      expect((await get(`/v1/retries/${'-'.repeat(36)}`, 404)).message).toContain('does not exist');
      await admin.delete(`/v1/retries/${'-'.repeat(36)}`, { expect: 404 });

      const one = Buffer.from('["1","x"]').toString('base64url');
      expect(await get(`/v1/clients?cursor=${one}`, 400)).toMatchObject({
        details: [{ field: 'cursor', problems: ['is not a cursor returned by this api'] }],
      });

      // A cursor the api returned still pages.
      const first = await admin.get<{ next_cursor: string }>('/v1/clients?limit=1', { expect: 200 });
      expect(first.next_cursor).toEqual(expect.any(String));
      await admin.get(`/v1/clients?limit=1&cursor=${first.next_cursor}`, { expect: 200 });
    });

    it('answers bad percent-encoding in the queue dashboard credentials with a 400', async () => {
      const basic = (s: string) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
      const dashboard = apiClient(stack.apiUrl);
      const bad = await dashboard.get<ErrorJson>('/admin/queues', { headers: basic(`${TEST_ADMIN.clientId}:%zz`), expect: 400 });
      expect(bad.message).toMatch(/not valid percent-encoded UTF-8/);
      await dashboard.get('/admin/queues', { headers: basic(`${TEST_ADMIN.clientId}:${TEST_ADMIN.secret}`), expect: 200 });
    });
  });

  describe('identity', () => {
    /** A request to identity as a browser sends it: redirects are not followed. */
    const page = (path: string, init: RequestInit = {}) => fetch(`${stack.identityUrl}${path}`, { ...init, redirect: 'manual' });
    const oauth = () => apiClient(stack.identityUrl);

    /** A live login form: the interaction's login URL and its cookie. */
    async function loginForm(): Promise<{ action: string; cookie: string }> {
      const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
      const res = await page(
        `/auth?${new URLSearchParams({
          client_id: rp.client_id,
          redirect_uri: REDIRECT,
          response_type: 'code',
          scope: 'openid',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        })}`,
      );
      const location = res.headers.get('location')!;
      expect(location).toMatch(/\/interaction\//);
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      return { action: `${new URL(location, stack.identityUrl).href}/login`, cookie };
    }

    /** The text of the page's alert, entities decoded. */
    const alertOf = (html: string) =>
      /<p class="error" role="alert">([^<]*)<\/p>/
        .exec(html)?.[1]
        .replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)))
        .replace(/&amp;/g, '&');

    it('answers a login form posted as text/plain or multipart with a 415 page, and a NUL e-mail with a 400 page naming it', async () => {
      const form = await loginForm();
      const post = (headers: Record<string, string>, body: string) =>
        fetch(form.action, { method: 'POST', headers: { cookie: form.cookie, ...headers }, body, redirect: 'manual' });

      const text = await post({ 'content-type': 'text/plain' }, `email=${USER.email}&password=x`);
      expect(text.status).toBe(415);
      expect(text.headers.get('content-type')).toMatch(/text\/html/);
      expect(alertOf(await text.text())).toContain('Content-Type text/plain is not supported');

      const multipart = await post(
        { 'content-type': 'multipart/form-data; boundary=b' },
        '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx\r\n--b--\r\n',
      );
      expect(multipart.status).toBe(415);
      expect(alertOf(await multipart.text())).toContain('multipart/form-data');

      const nul = await post(FORM, 'email=a%00b%40example.com&password=x');
      expect(nul.status).toBe(400);
      expect(alertOf(await nul.text())).toBe('email: contains the control character U+0000');

      // The same sign-in still completes with a proper form.
      expect((await post(FORM, new URLSearchParams(USER).toString())).status).toBe(303);
    });

    it('answers browser routes with an HTML page and OAuth endpoints with a JSON error naming the parameter', async () => {
      const logout = await page('/logout?client_id=%00');
      expect(logout.status).toBe(400);
      expect(logout.headers.get('content-type')).toMatch(/text\/html/);
      expect(alertOf(await logout.text())).toBe('client_id: contains the control character U+0000');
      const auth = await page(`/auth?client_id=${rp.client_id}&state=a%00`);
      expect(auth.status).toBe(400);
      expect(alertOf(await auth.text())).toBe('state: contains the control character U+0000');
      const endSession = await page('/session/end?post_logout_redirect_uri=%E0%A4%A');
      expect(endSession.status).toBe(400);
      expect(alertOf(await endSession.text())).toBe('post_logout_redirect_uri: is not valid percent-encoded UTF-8');

      const token = await oauth().post<ErrorJson>('/token', {
        headers: FORM,
        body: 'grant_type=authorization_code&code=%00',
        expect: 400,
      });
      expect(token).toMatchObject({
        error: 'invalid_request',
        error_description: 'code: contains the control character U+0000',
        details: [{ field: 'code', problems: ['contains the control character U+0000'] }],
      });
      const basic = await oauth().post<ErrorJson>('/token', {
        headers: { ...FORM, authorization: `Basic ${Buffer.from('a\u0000b:secret').toString('base64')}` },
        body: 'grant_type=client_credentials',
        expect: 400,
      });
      expect(basic.error_description).toBe('Authorization header: the Basic client id contains the control character U+0000');
      const session = await oauth().send('GET', '/api/2/session?client_id=%00', { expect: 400 });
      expect(session.headers.get('content-type')).toMatch(/json/);

      // A method oidc-provider does not serve: a 404 naming it, as a page on a browser route.
      const postAuth = await page('/auth', { method: 'POST', headers: FORM, body: 'client_id=x' });
      expect(postAuth.status).toBe(404);
      expect(alertOf(await postAuth.text())).toBe('POST /auth is not an endpoint of this service');
    });

    it('still hands checked forms to oidc-provider: a full sign-in and a refresh work', async () => {
      const signed = await signIn(stack, new HttpSession(), rp, USER);
      expect(signed.refreshToken).toEqual(expect.any(String));
      await oauth().post('/token', {
        headers: { ...FORM, authorization: basicAuth(rp) },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: signed.refreshToken! }).toString(),
        expect: 200,
      });
    });
  });
});
