import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { SigningKeysService } from '@slo/keys';
import { startTestStack, TestStack } from '@slo/testing';
import { generateKeyPair, importJWK, SignJWT } from 'jose';

describe('server tokens for the platform api', () => {
  let stack: TestStack;
  const get = (path: string, token?: string) =>
    fetch(`${stack.apiUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
  });
  afterAll(() => stack?.close());

  it('allows a call with the right scope', async () => {
    const res = await get('/v1/clients', await stack.serverToken('admin'));
    expect(res.status).toBe(200);
  });

  it('answers 403 naming the scope when the token lacks it', async () => {
    const token = await stack.serverToken('client:self');
    const res = await get('/v1/clients', token);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'insufficient_scope', message: expect.stringContaining('admin') });
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    // the same token is fine where client:self suffices
    expect((await get('/v1/clients/me', token)).status).toBe(200);
  });

  it('answers 401 without a token, with a malformed header, a forged token or an expired one', async () => {
    const noToken = await get('/v1/clients');
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { error: string }).error).toBe('unauthenticated');

    const basic = await fetch(`${stack.apiUrl}/v1/clients`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } });
    expect(basic.status).toBe(401);

    // Same claims as a real token, signed with a key the identity service never had.
    const real = await stack.serverToken('admin');
    const claims = JSON.parse(Buffer.from(real.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    const { privateKey } = await generateKeyPair('ES256');
    const header = JSON.parse(Buffer.from(real.split('.')[0], 'base64url').toString()) as { kid: string };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid })
      .sign(privateKey);
    const forgedRes = await get('/v1/clients', forged);
    expect(forgedRes.status).toBe(401);
    expect(((await forgedRes.json()) as { error: string }).error).toBe('invalid_token');

    // A token whose signature was tampered with (payload changed to a wider scope).
    const parts = real.split('.');
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'admin logout:emit' })).toString('base64url');
    expect((await get('/v1/clients', `${parts[0]}.${widened}.${parts[2]}`)).status).toBe(401);

    // alg "none"
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${parts[1]}.`;
    expect((await get('/v1/clients', unsigned)).status).toBe(401);
  });

  /** A token signed with the identity service's real ES256 key, so only the claims decide. */
  async function signWithIdentityKey(claims: Record<string, unknown>): Promise<string> {
    const jwk = (await stack.identity.get(SigningKeysService).privateJwks()).find((k) => k.alg === 'ES256')!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: stack.identityUrl,
      aud: stack.config.api.audience,
      iat: now,
      exp: now + 300,
      scope: 'admin',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: jwk.kid })
      .sign(await importJWK(jwk, 'ES256'));
  }

  it('accepts a correctly signed server token and refuses user tokens and tokens for another audience', async () => {
    const good = await signWithIdentityKey({ sub: 'test-admin', client_id: 'test-admin' });
    expect((await get('/v1/clients', good)).status).toBe(200);

    // A user's access token (sub is the user, not the client) must not act as a server token.
    const userToken = await signWithIdentityKey({ sub: '0190a5d2-0000-7000-8000-000000000001', client_id: 'test-admin' });
    const asUser = await get('/v1/clients', userToken);
    expect(asUser.status).toBe(401);
    expect(((await asUser.json()) as { message: string }).message).toContain('server token');

    const otherAudience = await signWithIdentityKey({
      sub: 'test-admin',
      client_id: 'test-admin',
      aud: 'https://other.example.com',
    });
    expect((await get('/v1/clients', otherAudience)).status).toBe(401);
    const otherIssuer = await signWithIdentityKey({
      sub: 'test-admin',
      client_id: 'test-admin',
      iss: 'https://evil.example.com',
    });
    expect((await get('/v1/clients', otherIssuer)).status).toBe(401);
  });

  it('refuses an expired token', async () => {
    const short = await stack.start(createIdentityApp, { IDENTITY_ISSUER: stack.identityUrl, ACCESS_TOKEN_TTL_SECONDS: '60' });
    const res = await fetch(`${short.url}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('test-admin:test-admin-secret-0123456789abcdef').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin' }),
    });
    const { access_token: token } = (await res.json()) as { access_token: string };
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'] });
    try {
      jest.setSystemTime(Date.now() + 120_000);
      const expired = await get('/v1/clients', token);
      expect(expired.status).toBe(401);
      expect(((await expired.json()) as { message: string }).message).toContain('expired');
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses scopes the client was not granted at the token endpoint', async () => {
    const admin = await stack.serverToken('admin');
    const created = (await (
      await fetch(`${stack.apiUrl}/v1/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Backend only', grant_types: ['client_credentials'] }),
      })
    ).json()) as { client_id: string; client_secret: string; server_scopes: string[] };
    expect(created.server_scopes).toEqual(['client:self']);
    const creds = { clientId: created.client_id, secret: created.client_secret };
    await expect(stack.serverToken('admin', creds)).rejects.toThrow(/invalid_scope/);
    const own = await stack.serverToken('client:self', creds);
    const me = await get('/v1/clients/me', own);
    expect(me.status).toBe(200);
    expect(((await me.json()) as { client_id: string }).client_id).toBe(created.client_id);
    expect((await get('/v1/clients', own)).status).toBe(403);

    // Once the client is deleted, its still-unexpired token no longer works.
    const del = await fetch(`${stack.apiUrl}/v1/clients/${created.client_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(del.status).toBe(204);
    expect((await get('/v1/clients/me', own)).status).toBe(401);
  });

  it('publishes the OpenAPI document and UI at /docs without a token', async () => {
    const ui = await fetch(`${stack.apiUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toContain('text/html');
    const doc = (await (await fetch(`${stack.apiUrl}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/clients', '/v1/clients/{clientId}', '/v1/clients/me']));
  });

  it('refuses a wrong client secret at the token endpoint', async () => {
    await expect(stack.serverToken('admin', { clientId: 'test-admin', secret: 'not-the-secret' })).rejects.toThrow(
      /invalid_client/,
    );
  });
});
