import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { HttpSession, signIn, startTestStack, TEST_ADMIN, TestStack } from '@slo/testing';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

const USER = { email: 'hygiene@example.com', password: 'hygiene password 1' };
const REDIRECT = 'http://127.0.0.1:9/callback';

interface ErrorJson {
  error: string;
  message: string;
  details?: { field: string; problems: string[] }[];
  error_description?: string;
}

/** The classes of bad input of issue 11, one by one: each a 4xx that names the problem, HTML for people, JSON for programs. */
describe('request hygiene', () => {
  let stack: TestStack;
  let admin: string;
  let rp: { client_id: string; client_secret: string };

  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const json = async (res: Response) => (await res.json()) as ErrorJson;

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Hy' });
    admin = await stack.serverToken('admin client:self logout:emit');
    const res = await api('POST', '/v1/clients', { client_id: 'hygiene-rp', client_name: 'Hygiene', redirect_uris: [REDIRECT] });
    expect(res.status).toBe(201);
    rp = (await res.json()) as typeof rp;
  });
  afterAll(() => stack?.close());

  describe('api', () => {
    it('refuses control characters in the path, query and JSON keys and values, naming the field', async () => {
      const inQuery = await api('GET', '/v1/logout-events?sub=a%00b');
      expect(inQuery.status).toBe(400);
      expect(await json(inQuery)).toMatchObject({
        error: 'validation_failed',
        message: 'sub: contains the control character U+0000',
        details: [{ field: 'sub', problems: ['contains the control character U+0000'] }],
      });

      const inPath = await api('GET', '/v1/clients/a%00b');
      expect(inPath.status).toBe(400);
      expect((await json(inPath)).details).toEqual([{ field: 'path', problems: ['contains the control character U+0000'] }]);

      const inValue = await api('POST', '/v1/clients', { client_name: 'ok', redirect_uris: ['https://a.example/cb', 'x\u0001'] });
      expect(inValue.status).toBe(400);
      expect((await json(inValue)).details).toEqual([
        { field: 'redirect_uris[1]', problems: ['contains the control character U+0001'] },
      ]);

      const inKey = await api('POST', '/v1/clients', '{"client_name":"ok","a\\u0000":1}');
      expect(inKey.status).toBe(400);
      expect((await json(inKey)).message).toMatch(/field name contains the control character U\+0000/);

      const lone = await api('PATCH', '/v1/clients/hygiene-rp', '{"client_name":"\\ud800"}');
      expect(lone.status).toBe(400);
      expect((await json(lone)).message).toBe('client_name: is not well-formed Unicode (a lone surrogate)');

      // A line break in free text is fine.
      const reason = await api('POST', '/v1/clients/hygiene-rp/disable', { reason: 'line one\nline two' });
      expect(reason.status).toBe(200);
      expect((await api('POST', '/v1/clients/hygiene-rp/enable', {})).status).toBe(200);
    });

    it('refuses bad percent-encoding in the path and the query', async () => {
      const query = await api('GET', '/v1/deliveries?client_id=%E0%A4%A');
      expect(query.status).toBe(400);
      expect(await json(query)).toMatchObject({ message: 'client_id: is not valid percent-encoded UTF-8' });
      const path = await api('GET', '/v1/clients/%zz');
      expect(path.status).toBe(400);
      expect((await json(path)).message).toBe('path: is not valid percent-encoded UTF-8');
    });

    it('accepts only real instants as dates', async () => {
      for (const bad of [
        '2024-W01',
        '2024-01-01T00:00:00,5Z',
        '2024-02-30T00:00:00Z',
        '2024-01-01T24:00:00Z',
        '2024-01-01T12:00:00',
      ]) {
        const list = await api('GET', `/v1/deliveries?since=${encodeURIComponent(bad)}`);
        expect([bad, list.status]).toEqual([bad, 400]);
        expect((await json(list)).details).toEqual([{ field: 'since', problems: [expect.stringContaining('RFC 3339')] }]);
      }
      const recover = await api('POST', '/v1/clients/hygiene-rp/recover', { since: '2024-W01' });
      expect(recover.status).toBe(400);
      expect((await json(recover)).details?.[0].field).toBe('since');
      const enable = await api('POST', '/v1/clients/hygiene-rp/enable', { recover_since: '2024-01-01T00:00:00,5Z' });
      expect(enable.status).toBe(400);
      expect((await json(enable)).details?.[0].field).toBe('recover_since');
      const retries = await api('POST', '/v1/retries', { since: '2024-001' });
      expect(retries.status).toBe(400);
      expect((await json(retries)).details?.[0].field).toBe('since');
      const event = await api('POST', '/v1/logout-events', { sub: 'u1', occurred_at: '2024-W01-1' });
      expect(event.status).toBe(400);
      expect((await json(event)).details?.[0].field).toBe('occurred_at');

      for (const good of ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00.123456+01:00', '2024-02-29']) {
        expect([good, (await api('GET', `/v1/deliveries?since=${encodeURIComponent(good)}`)).status]).toEqual([good, 200]);
      }
    });

    it('refuses deep and huge JSON, and answers body and decompression errors by their status', async () => {
      const deep = await api('POST', '/v1/clients', '['.repeat(3000) + ']'.repeat(3000));
      expect(deep.status).toBe(400);
      expect((await json(deep)).message).toBe('body: JSON is nested deeper than 32 levels');

      const huge = await api(
        'POST',
        '/v1/clients',
        JSON.stringify({ client_name: 'x'.repeat(stack.config.http.bodyLimitBytes) }),
      );
      expect(huge.status).toBe(413);
      expect((await json(huge)).error).toBe('payload_too_large');

      const garbage = await api('POST', '/v1/clients', randomBytes(64), { 'content-encoding': 'gzip' });
      expect(garbage.status).toBe(400);
      expect((await json(garbage)).message).toMatch(/^request could not be read: /);

      const unknown = await api('POST', '/v1/clients', '{}', { 'content-encoding': 'nope' });
      expect(unknown.status).toBe(415);

      const text = await api('POST', '/v1/clients', '{"client_name":"x"}', { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      expect((await json(text)).message).toBe(
        'Content-Type text/plain is not supported; send application/json or application/x-www-form-urlencoded',
      );

      // A real gzip body still works.
      const gzipped = await api('POST', '/v1/clients', gzipSync(JSON.stringify({ client_name: 'Zipped' })), {
        'content-encoding': 'gzip',
      });
      expect(gzipped.status).toBe(201);
    });

    it('validates UUIDs and cursors for real', async () => {
      const dashes = await api('GET', `/v1/retries/${'-'.repeat(36)}`);
      expect(dashes.status).toBe(404);
      expect((await json(dashes)).message).toContain('does not exist');
      expect((await api('DELETE', `/v1/retries/${'-'.repeat(36)}`)).status).toBe(404);

      const one = Buffer.from('["1","x"]').toString('base64url');
      const cursor = await api('GET', `/v1/clients?cursor=${one}`);
      expect(cursor.status).toBe(400);
      expect(await json(cursor)).toMatchObject({
        details: [{ field: 'cursor', problems: ['is not a cursor returned by this api'] }],
      });

      // A cursor the api returned still pages.
      const first = (await (await api('GET', '/v1/clients?limit=1')).json()) as { next_cursor: string };
      expect(first.next_cursor).toEqual(expect.any(String));
      expect((await api('GET', `/v1/clients?limit=1&cursor=${first.next_cursor}`)).status).toBe(200);
    });

    it('answers bad percent-encoding in the queue dashboard credentials with a 400', async () => {
      const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
      const res = await fetch(`${stack.apiUrl}/admin/queues`, {
        headers: { authorization: basic(`${TEST_ADMIN.clientId}:%zz`) },
      });
      expect(res.status).toBe(400);
      expect((await json(res)).message).toMatch(/not valid percent-encoded UTF-8/);
      const ok = await fetch(`${stack.apiUrl}/admin/queues`, {
        headers: { authorization: basic(`${TEST_ADMIN.clientId}:${TEST_ADMIN.secret}`) },
      });
      expect(ok.status).toBe(200);
    });
  });

  describe('identity', () => {
    /** A live login form: the interaction's login URL and its cookie. */
    async function loginForm(): Promise<{ action: string; cookie: string }> {
      const verifier = randomBytes(32).toString('base64url');
      const res = await fetch(
        `${stack.identityUrl}/auth?${new URLSearchParams({
          client_id: rp.client_id,
          redirect_uri: REDIRECT,
          response_type: 'code',
          scope: 'openid',
          code_challenge: createHash('sha256').update(verifier).digest('base64url'),
          code_challenge_method: 'S256',
        })}`,
        { redirect: 'manual' },
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

      const nul = await post({ 'content-type': 'application/x-www-form-urlencoded' }, 'email=a%00b%40example.com&password=x');
      expect(nul.status).toBe(400);
      expect(alertOf(await nul.text())).toBe('email: contains the control character U+0000');

      // The same sign-in still completes with a proper form.
      const good = await post({ 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams(USER).toString());
      expect(good.status).toBe(303);
    });

    it('answers browser routes with an HTML page and OAuth endpoints with a JSON error naming the parameter', async () => {
      const logout = await fetch(`${stack.identityUrl}/logout?client_id=%00`, { redirect: 'manual' });
      expect(logout.status).toBe(400);
      expect(logout.headers.get('content-type')).toMatch(/text\/html/);
      expect(alertOf(await logout.text())).toBe('client_id: contains the control character U+0000');

      const auth = await fetch(`${stack.identityUrl}/auth?client_id=${rp.client_id}&state=a%00`, { redirect: 'manual' });
      expect(auth.status).toBe(400);
      expect(alertOf(await auth.text())).toBe('state: contains the control character U+0000');

      const endSession = await fetch(`${stack.identityUrl}/session/end?post_logout_redirect_uri=%E0%A4%A`, {
        redirect: 'manual',
      });
      expect(endSession.status).toBe(400);
      expect(alertOf(await endSession.text())).toBe('post_logout_redirect_uri: is not valid percent-encoded UTF-8');

      const token = await fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=authorization_code&code=%00',
      });
      expect(token.status).toBe(400);
      expect(await json(token)).toMatchObject({
        error: 'invalid_request',
        error_description: 'code: contains the control character U+0000',
        details: [{ field: 'code', problems: ['contains the control character U+0000'] }],
      });

      const basic = await fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('a\u0000b:secret').toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
      });
      expect(basic.status).toBe(400);
      expect((await json(basic)).error_description).toBe(
        'Authorization header: the Basic client id contains the control character U+0000',
      );

      const session = await fetch(`${stack.identityUrl}/api/2/session?client_id=%00`);
      expect(session.status).toBe(400);
      expect(session.headers.get('content-type')).toMatch(/json/);

      // A method oidc-provider does not serve: a 404 naming it, as a page on a browser route.
      const postAuth = await fetch(`${stack.identityUrl}/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'client_id=x',
      });
      expect(postAuth.status).toBe(404);
      expect(alertOf(await postAuth.text())).toBe('POST /auth is not an endpoint of this service');
    });

    it('still hands checked forms to oidc-provider: a full sign-in and a refresh work', async () => {
      const signed = await signIn(stack.identityUrl, new HttpSession(), { ...rp, redirect_uri: REDIRECT }, USER);
      expect(signed.refreshToken).toEqual(expect.any(String));
      const refreshed = await fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${rp.client_id}:${rp.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: signed.refreshToken! }),
      });
      expect(refreshed.status).toBe(200);
    });
  });
});
