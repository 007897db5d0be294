import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { apiClient, startTestStack, TestStack, waitFor } from '@slo/testing';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';

describe('signing key rotation', () => {
  let stack: TestStack;

  const jwks = () => apiClient(stack.identityUrl).get<JSONWebKeySet & { keys: { kid: string }[] }>('/jwks', { expect: 200 });
  const kids = async () => (await jwks()).keys.map((k) => k.kid);
  const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
  /** Verifies against the JWKS as published right now. */
  const verifies = async (token: string) => {
    await jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: stack.identityUrl });
    return true;
  };

  beforeAll(async () => {
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: { KEY_PUBLISH_DELAY_SECONDS: '4', KEY_RETIRED_GRACE_SECONDS: '3', KEY_RELOAD_SECONDS: '1' },
    });
  });

  afterAll(() => stack?.close());

  it('publishes the new key before it signs, keeps the old one published for the grace period, and tokens verify throughout', async () => {
    const before = await stack.serverToken('admin');
    const oldKid = kidOf(before);
    const { next } = await stack
      .client(before)
      .post<{ next: { kid: string; alg: string; state: string }[] }>('/v1/keys/rotate', { expect: 202 });
    expect(next.map((k) => [k.alg, k.state])).toEqual([
      ['ES256', 'next'],
      ['RS256', 'next'],
    ]);
    const newKid = next.find((k) => k.alg === 'ES256')!.kid;

    // Published first, while the old key still signs.
    await waitFor(async () => (await kids()).includes(newKid), { what: 'the new key in the JWKS' });
    const published = (await jwks()).keys.find((k) => k.kid === newKid) as { key_ops?: string[] };
    expect(published.key_ops).toEqual(['verify']);
    const during = await stack.serverToken('admin');
    expect(kidOf(during)).toBe(oldKid);
    expect(await verifies(before)).toBe(true);

    // Then it signs; the old key stays published.
    const after: string = await waitFor(
      async () => {
        const token = await stack.serverToken('admin');
        return kidOf(token) === newKid ? token : '';
      },
      { timeoutMs: 20_000, what: 'tokens signed with the new key' },
    );
    expect(await kids()).toEqual(expect.arrayContaining([oldKid, newKid]));
    for (const token of [before, during, after]) expect(await verifies(token)).toBe(true);
    // The api accepts tokens signed with the new key.
    await stack.client(after).get('/v1/keys', { expect: 200 });

    // After the grace period the old key is no longer published.
    await waitFor(async () => !(await kids()).includes(oldKid), { timeoutMs: 20_000, what: 'the old key to be unpublished' });
    expect(await verifies(after)).toBe(true);
  });
});
