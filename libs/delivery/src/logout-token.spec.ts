import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutTokenMinter } from './logout-token';

describe('LogoutTokenMinter', () => {
  const ISS = 'https://id.example.com';
  let minter: LogoutTokenMinter;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  beforeAll(async () => {
    const keys = await Promise.all(
      (['RS256', 'ES256'] as const).map(async (alg) => {
        const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
        const kid = `k-${alg}`;
        return {
          pub: { ...(await exportJWK(publicKey)), kid, alg },
          priv: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' as const },
        };
      }),
    );
    minter = new LogoutTokenMinter(ISS, { privateJwks: async () => keys.map((k) => k.priv) });
    jwks = createLocalJWKSet({ keys: keys.map((k) => k.pub) });
  });

  it.each(['RS256', 'ES256'])('signs with the client’s %s key and the Back-Channel Logout claims', async (alg) => {
    const token = await minter.mint({ clientId: 'app', alg, typ: 'logout+jwt', sub: 'u1', sid: 's1' });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg, typ: 'logout+jwt', kid: `k-${alg}` });
    const { payload } = await jwtVerify(token, jwks, { issuer: ISS, audience: 'app', typ: 'logout+jwt' });
    expect(payload).toMatchObject({ sub: 'u1', sid: 's1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } });
    expect(payload.exp! - payload.iat!).toBe(120);
    expect(payload).not.toHaveProperty('nonce');
  });

  it('mints a fresh jti every time, sub-only or sid-only tokens, and the legacy JWT typ', async () => {
    const a = await minter.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: 'u1', sid: null });
    const b = await minter.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: null, sid: 's1' });
    const [pa, pb] = await Promise.all([a, b].map(async (t) => (await jwtVerify(t, jwks, { typ: 'JWT' })).payload));
    expect(pa.jti).not.toBe(pb.jti);
    expect(pa).not.toHaveProperty('sid');
    expect(pb).not.toHaveProperty('sub');
  });

  it('refuses a token naming neither subject nor session, and an algorithm without a key', async () => {
    await expect(minter.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: null, sid: null })).rejects.toThrow(/sub or sid/);
    await expect(minter.mint({ clientId: 'app', alg: 'PS256', typ: 'JWT', sub: 'u', sid: null })).rejects.toThrow(
      /no signing key/,
    );
  });
});
