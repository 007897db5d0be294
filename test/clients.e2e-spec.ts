import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import {
  ApiClient,
  apiClient,
  PRODUCTION_TEST_ENV,
  registerClient,
  requestServerToken,
  sql,
  startTestStack,
  TestStack,
} from '@slo/testing';

type Failure = { error: string; message: string; details: { field: string }[] };

describe('client registry through the api', () => {
  let stack: TestStack;
  let admin: ApiClient;

  const clientCredentials = (clientId: string, secret: string) =>
    requestServerToken(stack.identityUrl, 'client:self', { clientId, secret });

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    admin = stack.client(await stack.serverToken('admin'));
  });
  afterAll(() => stack?.close());

  it('creates, reads, updates, rotates the secret of and deletes a client', async () => {
    const body = await admin.post('/v1/clients', {
      body: {
        client_id: 'shop-web',
        client_name: 'Shop',
        redirect_uris: ['https://shop.example.com/callback'],
        post_logout_redirect_uris: ['https://shop.example.com/'],
        web_origins: ['https://shop.example.com'],
        backchannel_logout_uri: 'http://127.0.0.1:4999/backchannel-logout',
      },
      expect: 201,
    });
    expect(body).toMatchObject({
      client_id: 'shop-web',
      client_name: 'Shop',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      backchannel_logout_session_required: true,
      status: 'active',
    });
    expect(typeof body.client_secret).toBe('string');
    expect(JSON.stringify(body)).not.toContain('sha256:');

    // The secret is stored hashed, never in the clear.
    const [stored] = await sql(stack)<{ secret_hash: string }>("SELECT secret_hash FROM clients WHERE client_id = 'shop-web'");
    expect(stored.secret_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stored.secret_hash).not.toContain(body.client_secret);

    expect(await admin.get('/v1/clients/shop-web', { expect: 200 })).not.toHaveProperty('client_secret');

    const updated = await admin.patch('/v1/clients/shop-web', {
      body: { client_name: 'Shop 2', backchannel_logout_uri: null },
      expect: 200,
    });
    expect(updated).toMatchObject({
      client_name: 'Shop 2',
      backchannel_logout_uri: null,
      redirect_uris: ['https://shop.example.com/callback'],
    });

    expect((await clientCredentials('shop-web', body.client_secret as string)).status).toBe(200);
    const { client_secret: newSecret } = await admin.post<{ client_secret: string }>('/v1/clients/shop-web/secret', {
      expect: 201,
    });
    expect(newSecret).not.toBe(body.client_secret);
    expect((await clientCredentials('shop-web', body.client_secret as string)).status).toBe(401);
    expect((await clientCredentials('shop-web', newSecret)).status).toBe(200);

    await admin.delete('/v1/clients/shop-web', { expect: 204 });
    await admin.get('/v1/clients/shop-web', { expect: 404 });
    await admin.delete('/v1/clients/shop-web', { expect: 404 });
    expect((await clientCredentials('shop-web', newSecret)).status).toBe(401);
  });

  it('refuses a duplicate client_id with 409', async () => {
    await registerClient(admin, null, 'dup-1', { client_name: 'A' });
    const again = await admin.post('/v1/clients', { body: { client_id: 'dup-1', client_name: 'B' }, expect: 409 });
    expect(again.error).toBe('conflict');
  });

  it('pages through clients newest first with a cursor', async () => {
    for (const i of [1, 2, 3]) await registerClient(admin, null, `page-${i}`, { client_name: `P${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: { client_id: string }[]; next_cursor: string | null } = await admin.get(
        `/v1/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { expect: 200 },
      );
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((c) => c.client_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.indexOf('page-3')).toBeLessThan(seen.indexOf('page-1'));
    expect(seen).toEqual(expect.arrayContaining(['page-1', 'page-2', 'page-3', 'test-admin']));
    expect((await admin.get<Failure>('/v1/clients?cursor=not-a-cursor', { expect: 400 })).message).toContain('cursor');
    await admin.get('/v1/clients?limit=1000', { expect: 400 });
  });

  const hostile: [string, Record<string, unknown>, string][] = [
    ['relative redirect URI', { redirect_uris: ['/callback'] }, 'redirect_uris[0]'],
    ['redirect URI with a fragment', { redirect_uris: ['https://a.example.com/cb#x'] }, 'redirect_uris[0]'],
    ['javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris[0]'],
    ['data: redirect URI', { redirect_uris: ['data:text/html,hi'] }, 'redirect_uris[0]'],
    ['credentials in a redirect URI', { redirect_uris: ['https://user:pw@a.example.com/cb'] }, 'redirect_uris[0]'],
    ['whitespace in a redirect URI', { redirect_uris: ['https://a.example.com/c b'] }, 'redirect_uris[0]'],
    ['backslash in a redirect URI', { redirect_uris: ['https://a.example.com\\@evil.com/cb'] }, 'redirect_uris[0]'],
    ['back-channel to a private address', { backchannel_logout_uri: 'https://10.0.0.5/logout' }, 'backchannel_logout_uri'],
    [
      'back-channel to link-local metadata',
      { backchannel_logout_uri: 'http://169.254.169.254/latest' },
      'backchannel_logout_uri',
    ],
    ['back-channel to IPv6 loopback', { backchannel_logout_uri: 'http://[::1]:8080/logout' }, 'backchannel_logout_uri'],
    [
      'back-channel to IPv4-mapped private',
      { backchannel_logout_uri: 'http://[::ffff:192.168.1.1]/x' },
      'backchannel_logout_uri',
    ],
    ['back-channel to localhost by name', { backchannel_logout_uri: 'http://localhost:8080/logout' }, 'backchannel_logout_uri'],
    [
      'back-channel to a decimal-encoded private address',
      { backchannel_logout_uri: 'http://167772161/logout' },
      'backchannel_logout_uri',
    ],
    ['back-channel with a fragment', { backchannel_logout_uri: 'https://a.example.com/l#f' }, 'backchannel_logout_uri'],
    ['web origin with a path', { web_origins: ['https://a.example.com/app'] }, 'web_origins[0]'],
    ['unknown field', { is_admin: true }, 'is_admin'],
    ['wrong type', { redirect_uris: 'https://a.example.com/cb' }, 'redirect_uris'],
    ['unknown grant type', { grant_types: ['password'] }, 'grant_types'],
    ['unknown server scope', { server_scopes: ['root'] }, 'server_scopes'],
    ['authorization_code without redirect URIs', { grant_types: ['authorization_code'] }, 'redirect_uris'],
    ['an unknown delivery format', { delivery_format: 'carrier-pigeon' }, 'delivery_format'],
    ['a null delivery format', { delivery_format: null }, 'delivery_format'],
    ['an unknown logout token typ', { logout_token_typ: 'none' }, 'logout_token_typ'],
    ['a delivery timeout below 100 ms', { delivery_timeout_ms: 5 }, 'delivery_timeout_ms'],
    ['a fractional attempt count', { delivery_max_attempts: 1.5 }, 'delivery_max_attempts'],
    ['a null grant type list', { grant_types: null }, 'grant_types'],
    ['a null client name', { client_name: null }, 'client_name'],
  ];

  it.each(hostile)('refuses %s with a 400 naming the field and writes nothing', async (_name, fields, field) => {
    const clientId = `hostile-${Math.random().toString(36).slice(2, 10)}`;
    const body = await admin.post<Failure>('/v1/clients', {
      body: { client_id: clientId, client_name: 'Hostile', ...fields },
      expect: 400,
    });
    expect(body.error).toBe('validation_failed');
    expect(body.details.map((d) => d.field)).toContain(field);
    expect(body.message).toContain(field);
    await admin.get(`/v1/clients/${clientId}`, { expect: 404 });
  });

  it('requires a client name', async () => {
    const res = await admin.post<Failure>('/v1/clients', { body: { redirect_uris: ['https://a.example.com/cb'] }, expect: 400 });
    expect(res.details.map((d) => d.field)).toContain('client_name');
  });

  it('refuses hostile updates without changing the stored client', async () => {
    await registerClient(admin, null, 'stable', { client_name: 'S', redirect_uris: ['https://s.example.com/cb'] });
    await admin.patch('/v1/clients/stable', {
      body: { client_name: 'Changed', redirect_uris: ['javascript:alert(1)'] },
      expect: 400,
    });
    expect(await admin.get('/v1/clients/stable', { expect: 200 })).toMatchObject({
      client_name: 'S',
      redirect_uris: ['https://s.example.com/cb'],
    });
  });

  it('answers malformed and oversized bodies with JSON errors', async () => {
    expect((await admin.post('/v1/clients', { body: '{"client_name": ', expect: 400 })).error).toBe('invalid_json');
    const huge = { client_name: 'Big', redirect_uris: Array(5000).fill('https://a.example.com/cb-long-path') };
    expect((await admin.post('/v1/clients', { body: huge, expect: 413 })).error).toBe('payload_too_large');
    const tooMany = { client_name: 'Many', redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example.com/${i}`) };
    await admin.post('/v1/clients', { body: tooMany, expect: 400 });
  });

  it('refuses plain http to a public host outside local development, but allows loopback', async () => {
    const prod = apiClient(
      (await stack.start('api', { ...PRODUCTION_TEST_ENV, BOOTSTRAP_ADMIN_CLIENT_SECRET: '' })).url,
      admin.token,
    );
    const httpPublic = await prod.post('/v1/clients', {
      body: { client_name: 'P', redirect_uris: ['http://shop.example.com/cb'] },
      expect: 400,
    });
    expect(httpPublic.message).toMatch(/redirect_uris\[0\].*https/);
    await prod.post('/v1/clients', { body: { client_name: 'L', redirect_uris: ['http://127.0.0.1:8080/cb'] }, expect: 201 });
  });

  it('lets a client manage its own logout endpoints, and nothing else, with client:self', async () => {
    const created = await registerClient(admin, null, 'self-svc', {
      client_name: 'Self',
      redirect_uris: ['https://self.example.com/cb'],
    });
    const own = stack.client(await stack.serverToken('client:self', created));
    const patched = await own.patch('/v1/clients/me', {
      body: { backchannel_logout_uri: 'http://127.0.0.1:5000/bcl', web_origins: ['https://self.example.com'] },
      expect: 200,
    });
    expect(patched).toMatchObject({
      client_id: 'self-svc',
      backchannel_logout_uri: 'http://127.0.0.1:5000/bcl',
      web_origins: ['https://self.example.com'],
    });
    const escalate = await own.patch('/v1/clients/me', { body: { server_scopes: ['admin'] }, expect: 400 });
    expect(escalate.message).toContain('server_scopes');
    await own.get('/v1/clients/self-svc', { expect: 403 });
  });
});
