import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { SigningKeysService, type PrivateJwk } from '@slo/keys';
import { ApiClient, apiClient, registerClient, startTestStack, TestStack } from '@slo/testing';
import { createPublicKey } from 'node:crypto';
import { importJWK, SignJWT } from 'jose';

/**
 * Server tokens follow the client as it is now: a scope removed from `server_scopes` and a secret
 * rotation take effect for the very next request, at the api and at identity's /api/2/logout.
 */
describe('server tokens follow the client’s current scopes and secret', () => {
  let stack: TestStack;
  let admin: ApiClient;

  /** identity's API logout of every session of a user, which needs a server token with scope admin. */
  const logoutEverywhere = (token: string, status: number) =>
    apiClient(stack.identityUrl, token).post('/api/2/logout', { body: { sub: 'someone' }, expect: status });
  const createOperator = (clientId: string, scopes: string[]) =>
    registerClient(admin, null, clientId, {
      client_name: `Operator ${clientId}`,
      grant_types: ['client_credentials'],
      server_scopes: scopes,
      redirect_uris: undefined,
    });

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    admin = stack.client(await stack.serverToken('admin'));
  });
  afterAll(() => stack?.close());

  it('refuses a token’s admin scope on the very next request once admin is removed from server_scopes', async () => {
    const ops = await createOperator('ops-demoted', ['admin', 'client:self']);
    const token = await stack.serverToken('admin client:self', ops);
    await stack.client(token).get('/v1/clients', { expect: 200 });
    await logoutEverywhere(token, 200);

    await admin.patch('/v1/clients/ops-demoted', { body: { server_scopes: ['client:self'] }, expect: 200 });

    // The same, unexpired token: no admin any more, at the api and at /api/2/logout ...
    const refused = await stack.client(token).get('/v1/clients', { expect: 403 });
    expect(refused).toEqual({ error: 'insufficient_scope', message: expect.stringContaining('admin') });
    await logoutEverywhere(token, 401);
    // ... while the scope it still holds keeps working.
    await stack.client(token).get('/v1/clients/me', { expect: 200 });

    // A scope the client never held again is refused at the token endpoint as before.
    await expect(stack.serverToken('admin', ops)).rejects.toThrow(/invalid_scope/);
  });

  it('refuses every token issued before a secret rotation (401), and accepts one obtained with the new secret at once', async () => {
    const ops = await createOperator('ops-rotated', ['admin', 'client:self']);
    const before = await stack.serverToken('admin client:self', ops);
    await stack.client(before).get('/v1/clients/me', { expect: 200 });

    const { client_secret: secret } = await admin.post<{ client_secret: string }>('/v1/clients/ops-rotated/secret', {
      expect: 201,
    });
    // Obtained right after the rotation answered: it must work although `iat` has whole seconds.
    const after = await stack.serverToken('admin client:self', { clientId: 'ops-rotated', secret });

    const refused = await stack.client(before).send<{ message: string }>('GET', '/v1/clients/me', { expect: 401 });
    expect(refused.body.message).toContain('rotated');
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
    await logoutEverywhere(before, 401);

    await expect(stack.serverToken('client:self', ops)).rejects.toThrow(/invalid_client/);
    await stack.client(after).get('/v1/clients/me', { expect: 200 });
    await logoutEverywhere(after, 200);
  });

  describe('/api/2/logout verifies server tokens by the api’s rules', () => {
    const now = () => Math.floor(Date.now() / 1000);
    const keys = () => stack.identity.get(SigningKeysService).privateJwks();
    const withoutOps = ({ key_ops: _ops, ...jwk }: PrivateJwk) => jwk;

    /** A server token for test-admin with scope admin, signed with `jwk`; `claims` changes one thing. */
    async function sign(jwk: PrivateJwk, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
      const payload: Record<string, unknown> = {
        iss: stack.identityUrl,
        aud: stack.config.api.audience,
        sub: 'test-admin',
        client_id: 'test-admin',
        scope: 'admin',
        iat: now(),
        exp: now() + 300,
        jti: `t-${Math.random()}`,
        ...claims,
      };
      for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
      return new SignJWT(payload)
        .setProtectedHeader({ alg: jwk.alg, typ: 'at+jwt', kid: jwk.kid, ...header })
        .sign(await importJWK(withoutOps(jwk), jwk.alg));
    }
    const active = async () => (await keys()).find((k) => k.alg === 'ES256' && !k.key_ops)!;

    /** Refused alike by /api/2/logout and the api (one verifier). */
    async function expectRefusedEverywhere(token: string) {
      await logoutEverywhere(token, 401);
      await stack.client(token).get('/v1/clients', { expect: 401 });
    }

    it('accepts a correctly signed token (the control for the cases below)', async () => {
      const good = await sign(await active());
      await logoutEverywhere(good, 200);
      await stack.client(good).get('/v1/clients', { expect: 200 });
    });

    it('refuses an expired token and one without exp', async () => {
      await expectRefusedEverywhere(await sign(await active(), { iat: now() - 600, exp: now() - 60 }));
      await expectRefusedEverywhere(await sign(await active(), { exp: undefined }));
    });

    it('refuses alg none and HS256 keyed with the public key', async () => {
      const good = await sign(await active());
      const [, body] = good.split('.');
      const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${body}.`;
      await expectRefusedEverywhere(none);

      const jwk = await active();
      const { d: _d, key_ops: _ops, ...publicJwk } = jwk;
      const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
      for (const secret of [pem, JSON.stringify(publicJwk)]) {
        const hs = await new SignJWT({ ...JSON.parse(Buffer.from(body, 'base64url').toString()) })
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid })
          .sign(new TextEncoder().encode(secret));
        await expectRefusedEverywhere(hs);
      }
    });

    it('refuses an unknown kid, a key that is published but not yet signing (next), and another audience', async () => {
      await expectRefusedEverywhere(await sign(await active(), {}, { kid: 'no-such-key' }));

      await admin.post('/v1/keys/rotate', { expect: 202 });
      const next = (await keys()).find((k) => k.alg === 'ES256' && k.key_ops)!;
      expect(next).toBeDefined();
      await expectRefusedEverywhere(await sign(next));

      await expectRefusedEverywhere(await sign(await active(), { aud: 'https://other.example.com' }));
    });

    it('refuses a scope given as an array instead of a space-separated string', async () => {
      await expectRefusedEverywhere(await sign(await active(), { scope: ['admin'] }));
    });
  });
});
