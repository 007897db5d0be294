import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { SigningKeysService } from '@slo/keys';
import { registerClient, serverToken, startTestStack, TestStack } from '@slo/testing';
import { generateKeyPair, importJWK, SignJWT } from 'jose';

describe('server tokens for the platform api', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
  });
  afterAll(() => stack?.close());

  it('allows a call with the right scope', async () => {
    await stack.client(await stack.serverToken('admin')).get('/v1/clients', { expect: 200 });
  });

  it('answers 403 naming the scope when the token lacks it', async () => {
    const token = await stack.serverToken('client:self');
    const res = await stack.client(token).send('GET', '/v1/clients', { expect: 403 });
    expect(res.body).toEqual({ error: 'insufficient_scope', message: expect.stringContaining('admin') });
    expect(res.headers.get('www-authenticate')).toContain('insufficient_scope');
    // the same token is fine where client:self suffices
    await stack.client(token).get('/v1/clients/me', { expect: 200 });
  });

  it('answers 401 without a token, with a malformed header, a forged token or an expired one', async () => {
    expect((await stack.client().get('/v1/clients', { expect: 401 })).error).toBe('unauthenticated');
    await stack.client().get('/v1/clients', { headers: { authorization: 'Basic Zm9vOmJhcg==' }, expect: 401 });

    // Same claims as a real token, signed with a key the identity service never had.
    const real = await stack.serverToken('admin');
    const claims = JSON.parse(Buffer.from(real.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    const { privateKey } = await generateKeyPair('ES256');
    const header = JSON.parse(Buffer.from(real.split('.')[0], 'base64url').toString()) as { kid: string };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid })
      .sign(privateKey);
    expect((await stack.client(forged).get('/v1/clients', { expect: 401 })).error).toBe('invalid_token');

    // A token whose signature was tampered with (payload changed to a wider scope).
    const parts = real.split('.');
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'admin logout:emit' })).toString('base64url');
    await stack.client(`${parts[0]}.${widened}.${parts[2]}`).get('/v1/clients', { expect: 401 });

    // alg "none"
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${parts[1]}.`;
    await stack.client(unsigned).get('/v1/clients', { expect: 401 });
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
    await stack.client(good).get('/v1/clients', { expect: 200 });

    // A user's access token (sub is the user, not the client) must not act as a server token.
    const userToken = await signWithIdentityKey({ sub: '0190a5d2-0000-7000-8000-000000000001', client_id: 'test-admin' });
    expect((await stack.client(userToken).get<{ message: string }>('/v1/clients', { expect: 401 })).message).toContain(
      'server token',
    );

    const otherAudience = await signWithIdentityKey({
      sub: 'test-admin',
      client_id: 'test-admin',
      aud: 'https://other.example.com',
    });
    await stack.client(otherAudience).get('/v1/clients', { expect: 401 });
    const otherIssuer = await signWithIdentityKey({
      sub: 'test-admin',
      client_id: 'test-admin',
      iss: 'https://evil.example.com',
    });
    await stack.client(otherIssuer).get('/v1/clients', { expect: 401 });
  });

  it('refuses an expired token', async () => {
    const short = await stack.start('identity', { IDENTITY_ISSUER: stack.identityUrl, ACCESS_TOKEN_TTL_SECONDS: '60' });
    const token = await serverToken(short.url, 'admin');
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'queueMicrotask'] });
    try {
      jest.setSystemTime(Date.now() + 120_000);
      expect((await stack.client(token).get<{ message: string }>('/v1/clients', { expect: 401 })).message).toContain('expired');
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses scopes the client was not granted at the token endpoint', async () => {
    const admin = stack.client(await stack.serverToken('admin'));
    const created = await registerClient(admin, null, 'backend-only', {
      client_name: 'Backend only',
      grant_types: ['client_credentials'],
      redirect_uris: undefined,
    });
    expect(created.server_scopes).toEqual(['client:self']);
    await expect(stack.serverToken('admin', created)).rejects.toThrow(/invalid_scope/);
    const own = await stack.serverToken('client:self', created);
    expect((await stack.client(own).get('/v1/clients/me', { expect: 200 })).client_id).toBe(created.client_id);
    await stack.client(own).get('/v1/clients', { expect: 403 });

    // Once the client is deleted, its still-unexpired token no longer works.
    await admin.delete(`/v1/clients/${created.client_id}`, { expect: 204 });
    await stack.client(own).get('/v1/clients/me', { expect: 401 });
  });

  it('publishes the OpenAPI document and UI at /docs without a token', async () => {
    const ui = await stack.client().send('GET', '/docs', { expect: 200 });
    expect(ui.headers.get('content-type')).toContain('text/html');
    const doc = await stack.client().get<{ paths: Record<string, unknown> }>('/docs/openapi.json', { expect: 200 });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/clients', '/v1/clients/{clientId}', '/v1/clients/me']));
  });

  it('refuses a wrong client secret at the token endpoint', async () => {
    await expect(stack.serverToken('admin', { clientId: 'test-admin', secret: 'not-the-secret' })).rejects.toThrow(
      /invalid_client/,
    );
  });
});
