import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { startTestStack, TestStack, withPg, PRODUCTION_TEST_ENV } from '@slo/testing';

describe('client registry through the api', () => {
  let stack: TestStack;
  let admin: string;

  const call = (method: string, path: string, body?: unknown, token = admin, base?: string) =>
    fetch(`${base ?? stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  const clientCredentials = (clientId: string, secret: string) =>
    fetch(`${stack.identityUrl}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'client:self' }),
    });

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    admin = await stack.serverToken('admin');
  });
  afterAll(() => stack?.close());

  it('creates, reads, updates, rotates the secret of and deletes a client', async () => {
    const created = await call('POST', '/v1/clients', {
      client_id: 'shop-web',
      client_name: 'Shop',
      redirect_uris: ['https://shop.example.com/callback'],
      post_logout_redirect_uris: ['https://shop.example.com/'],
      web_origins: ['https://shop.example.com'],
      backchannel_logout_uri: 'http://127.0.0.1:4999/backchannel-logout',
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
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
    const stored = await withPg(stack.dbUrl, (c) => c.query("SELECT secret_hash FROM clients WHERE client_id = 'shop-web'"));
    expect(stored.rows[0].secret_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(stored.rows[0].secret_hash).not.toContain(body.client_secret);

    const fetched = await call('GET', '/v1/clients/shop-web');
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).not.toHaveProperty('client_secret');

    const updated = await call('PATCH', '/v1/clients/shop-web', { client_name: 'Shop 2', backchannel_logout_uri: null });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      client_name: 'Shop 2',
      backchannel_logout_uri: null,
      redirect_uris: ['https://shop.example.com/callback'],
    });

    expect((await clientCredentials('shop-web', body.client_secret as string)).status).toBe(200);
    const rotated = await call('POST', '/v1/clients/shop-web/secret');
    expect(rotated.status).toBe(201);
    const { client_secret: newSecret } = (await rotated.json()) as { client_secret: string };
    expect(newSecret).not.toBe(body.client_secret);
    expect((await clientCredentials('shop-web', body.client_secret as string)).status).toBe(401);
    expect((await clientCredentials('shop-web', newSecret)).status).toBe(200);

    expect((await call('DELETE', '/v1/clients/shop-web')).status).toBe(204);
    expect((await call('GET', '/v1/clients/shop-web')).status).toBe(404);
    expect((await call('DELETE', '/v1/clients/shop-web')).status).toBe(404);
    expect((await clientCredentials('shop-web', newSecret)).status).toBe(401);
  });

  it('refuses a duplicate client_id with 409', async () => {
    expect((await call('POST', '/v1/clients', { client_id: 'dup-1', client_name: 'A' })).status).toBe(201);
    const again = await call('POST', '/v1/clients', { client_id: 'dup-1', client_name: 'B' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toBe('conflict');
  });

  it('pages through clients newest first with a cursor', async () => {
    for (const i of [1, 2, 3])
      expect((await call('POST', '/v1/clients', { client_id: `page-${i}`, client_name: `P${i}` })).status).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/v1/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: { client_id: string }[]; next_cursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((c) => c.client_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.indexOf('page-3')).toBeLessThan(seen.indexOf('page-1'));
    expect(seen).toEqual(expect.arrayContaining(['page-1', 'page-2', 'page-3', 'test-admin']));
    const bad = await call('GET', '/v1/clients?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('cursor');
    expect((await call('GET', '/v1/clients?limit=1000')).status).toBe(400);
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
    const res = await call('POST', '/v1/clients', { client_id: clientId, client_name: 'Hostile', ...fields });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; details: { field: string }[] };
    expect(body.error).toBe('validation_failed');
    expect(body.details.map((d) => d.field)).toContain(field);
    expect(body.message).toContain(field);
    expect((await call('GET', `/v1/clients/${clientId}`)).status).toBe(404);
  });

  it('requires a client name', async () => {
    const res = await call('POST', '/v1/clients', { redirect_uris: ['https://a.example.com/cb'] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { details: { field: string }[] }).details.map((d) => d.field)).toContain('client_name');
  });

  it('refuses hostile updates without changing the stored client', async () => {
    expect(
      (await call('POST', '/v1/clients', { client_id: 'stable', client_name: 'S', redirect_uris: ['https://s.example.com/cb'] }))
        .status,
    ).toBe(201);
    const res = await call('PATCH', '/v1/clients/stable', { client_name: 'Changed', redirect_uris: ['javascript:alert(1)'] });
    expect(res.status).toBe(400);
    const after = (await (await call('GET', '/v1/clients/stable')).json()) as { client_name: string; redirect_uris: string[] };
    expect(after).toMatchObject({ client_name: 'S', redirect_uris: ['https://s.example.com/cb'] });
  });

  it('answers malformed and oversized bodies with JSON errors', async () => {
    const malformed = await call('POST', '/v1/clients', '{"client_name": ');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toBe('invalid_json');
    const huge = await call('POST', '/v1/clients', {
      client_name: 'Big',
      redirect_uris: Array(5000).fill('https://a.example.com/cb-long-path'),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: string }).error).toBe('payload_too_large');
    const tooMany = await call('POST', '/v1/clients', {
      client_name: 'Many',
      redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example.com/${i}`),
    });
    expect(tooMany.status).toBe(400);
  });

  it('refuses plain http to a public host outside local development, but allows loopback', async () => {
    const prod = await stack.start(createApiApp, {
      ...PRODUCTION_TEST_ENV,
      BOOTSTRAP_ADMIN_CLIENT_SECRET: '',
    });
    const httpPublic = await call(
      'POST',
      '/v1/clients',
      { client_name: 'P', redirect_uris: ['http://shop.example.com/cb'] },
      admin,
      prod.url,
    );
    expect(httpPublic.status).toBe(400);
    expect(((await httpPublic.json()) as { message: string }).message).toMatch(/redirect_uris\[0\].*https/);
    const loopback = await call(
      'POST',
      '/v1/clients',
      { client_name: 'L', redirect_uris: ['http://127.0.0.1:8080/cb'] },
      admin,
      prod.url,
    );
    expect(loopback.status).toBe(201);
  });

  it('lets a client manage its own logout endpoints, and nothing else, with client:self', async () => {
    const created = (await (
      await call('POST', '/v1/clients', {
        client_id: 'self-svc',
        client_name: 'Self',
        redirect_uris: ['https://self.example.com/cb'],
      })
    ).json()) as { client_secret: string };
    const own = await stack.serverToken('client:self', { clientId: 'self-svc', secret: created.client_secret });
    const patched = await call(
      'PATCH',
      '/v1/clients/me',
      { backchannel_logout_uri: 'http://127.0.0.1:5000/bcl', web_origins: ['https://self.example.com'] },
      own,
    );
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      client_id: 'self-svc',
      backchannel_logout_uri: 'http://127.0.0.1:5000/bcl',
      web_origins: ['https://self.example.com'],
    });
    const escalate = await call('PATCH', '/v1/clients/me', { server_scopes: ['admin'] }, own);
    expect(escalate.status).toBe(400);
    expect(((await escalate.json()) as { message: string }).message).toContain('server_scopes');
    expect((await call('GET', '/v1/clients/self-svc', undefined, own)).status).toBe(403);
  });
});
