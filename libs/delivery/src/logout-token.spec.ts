import type { PrivateJwk } from '@slo/keys';
import {
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JWK,
} from 'jose';
import { BACKCHANNEL_LOGOUT_EVENT, LogoutTokenMinter } from './logout-token';

type Alg = 'RS256' | 'ES256';
const ISS = 'https://id.example.com';
const ALGS: Alg[] = ['RS256', 'ES256'];
const TYPS = ['logout+jwt', 'JWT'] as const;

async function keyPair(alg: Alg, kid = `k-${alg}`): Promise<{ pub: JWK; priv: PrivateJwk }> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return {
    pub: { ...(await exportJWK(publicKey)), kid, alg },
    priv: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' },
  };
}

const segments = (token: string) => token.split('.');
const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(segments(token)[1], 'base64url').toString()) as Record<string, unknown>;

describe('LogoutTokenMinter', () => {
  let keys: Record<Alg, { pub: JWK; priv: PrivateJwk }>;
  let minter: LogoutTokenMinter;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  beforeAll(async () => {
    keys = { RS256: await keyPair('RS256'), ES256: await keyPair('ES256') };
    minter = new LogoutTokenMinter(ISS, { privateJwks: async () => ALGS.map((a) => keys[a].priv) });
    jwks = createLocalJWKSet({ keys: ALGS.map((a) => keys[a].pub) });
  });

  afterEach(() => jest.restoreAllMocks());

  describe.each(ALGS)('%s', (alg) => {
    it.each(TYPS)(
      'signs a typ %s token that jose verifies against the public JWK, with the Back-Channel Logout claims',
      async (typ) => {
        const now = 1_750_000_000_500;
        const token = await minter.mint({ clientId: 'app', alg, typ, sub: 'u1', sid: 's1' }, now);
        expect(decodeProtectedHeader(token)).toEqual({ alg, kid: `k-${alg}`, typ });
        const publicKey = await importJWK(keys[alg].pub, alg);
        const { protectedHeader } = await compactVerify(token, publicKey);
        expect(protectedHeader).toEqual({ alg, kid: `k-${alg}`, typ });
        const { payload } = await jwtVerify(token, jwks, {
          issuer: ISS,
          audience: 'app',
          typ,
          algorithms: [alg],
          currentDate: new Date(now),
        });
        expect(payload).toEqual({
          iss: ISS,
          aud: 'app',
          iat: 1_750_000_000,
          exp: 1_750_000_120,
          jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
          events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
          sub: 'u1',
          sid: 's1',
        });
        expect(payload).not.toHaveProperty('nonce');
      },
    );

    it('writes the header and claims byte for byte as jose’s SignJWT did', async () => {
      const now = Date.now();
      const token = await minter.mint({ clientId: 'app', alg, typ: 'logout+jwt', sub: 'u1', sid: 's1' }, now);
      const { iat, jti } = payloadOf(token) as { iat: number; jti: string };
      const reference = await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sub: 'u1', sid: 's1' })
        .setProtectedHeader({ alg, kid: `k-${alg}`, typ: 'logout+jwt' })
        .setIssuer(ISS)
        .setAudience('app')
        .setIssuedAt(iat)
        .setExpirationTime(iat + 120)
        .setJti(jti)
        .sign(await importJWK(keys[alg].priv, alg));
      expect(segments(token).slice(0, 2)).toEqual(segments(reference).slice(0, 2));
    });

    it('fails verification once the payload, the header or the signature is altered', async () => {
      const token = await minter.mint({ clientId: 'app', alg, typ: 'logout+jwt', sub: 'u1', sid: 's1' });
      const [h, p, s] = segments(token);
      const forgedPayload = Buffer.from(JSON.stringify({ ...payloadOf(token), sub: 'someone-else' })).toString('base64url');
      const forgedHeader = Buffer.from(JSON.stringify({ alg, kid: `k-${alg}`, typ: 'JWT' })).toString('base64url');
      const sig = Buffer.from(s, 'base64url');
      sig[sig.length - 1] ^= 1;
      await expect(jwtVerify(token, jwks)).resolves.toBeDefined();
      for (const tampered of [
        `${h}.${forgedPayload}.${s}`,
        `${forgedHeader}.${p}.${s}`,
        `${h}.${p}.${sig.toString('base64url')}`,
      ]) {
        await expect(jwtVerify(tampered, jwks)).rejects.toThrow(/signature verification failed/);
      }
    });
  });

  it('writes ES256 signatures as IEEE P1363 r||s (64 bytes, not DER) and RS256 ones as 256 bytes', async () => {
    const es = await minter.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: 'u1', sid: null });
    const rs = await minter.mint({ clientId: 'app', alg: 'RS256', typ: 'JWT', sub: 'u1', sid: null });
    const esSig = Buffer.from(segments(es)[2], 'base64url');
    expect(esSig).toHaveLength(64);
    expect(Buffer.from(segments(rs)[2], 'base64url')).toHaveLength(256);
  });

  it('mints a fresh jti every time, sub-only or sid-only tokens, and the legacy JWT typ', async () => {
    const a = await minter.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: 'u1', sid: null });
    const b = await minter.mint({ clientId: 'app', alg: 'RS256', typ: 'JWT', sub: null, sid: 's1' });
    const [pa, pb] = await Promise.all([a, b].map(async (t) => (await jwtVerify(t, jwks, { typ: 'JWT' })).payload));
    expect(Object.keys(pa)).toEqual(['events', 'sub', 'iss', 'aud', 'iat', 'exp', 'jti']);
    expect(Object.keys(pb)).toEqual(['events', 'sid', 'iss', 'aud', 'iat', 'exp', 'jti']);
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        minter.mint({ clientId: 'app', alg: i % 2 ? 'ES256' : 'RS256', typ: 'logout+jwt', sub: 'u1', sid: 's1' }),
      ),
    );
    const jtis = [a, b, ...many].map((t) => payloadOf(t).jti);
    expect(new Set(jtis).size).toBe(jtis.length);
  });

  it('leaves sub out of session tokens for sid-only clients, but keeps it when no session is named', async () => {
    const claims = async (input: Parameters<LogoutTokenMinter['mint']>[0]) =>
      (await jwtVerify(await minter.mint(input), jwks)).payload;
    const base = { clientId: 'app', alg: 'ES256', typ: 'logout+jwt' } as const;
    const sidOnly = await claims({ ...base, subject: 'sid', sub: 'u1', sid: 's1' });
    expect(sidOnly).toMatchObject({ sid: 's1' });
    expect(sidOnly).not.toHaveProperty('sub');
    // Every session of the user ended: without sub the token would name nothing.
    expect(await claims({ ...base, subject: 'sid', sub: 'u1', sid: null })).toMatchObject({ sub: 'u1' });
    // The default and sid_and_sub name both, as before.
    expect(await claims({ ...base, sub: 'u1', sid: 's1' })).toMatchObject({ sub: 'u1', sid: 's1' });
    expect(await claims({ ...base, subject: 'sid_and_sub', sub: 'u1', sid: 's1' })).toMatchObject({ sub: 'u1', sid: 's1' });
  });

  it('refuses a token naming neither subject nor session, and an algorithm without a key', async () => {
    await expect(minter.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: null, sid: null })).rejects.toThrow(/sub or sid/);
    await expect(minter.mint({ clientId: 'app', alg: 'PS256', typ: 'JWT', sub: 'u', sid: null })).rejects.toThrow(
      'no signing key for PS256',
    );
    await expect(minter.mint({ clientId: 'app', alg: 'toString', typ: 'JWT', sub: 'u', sid: null })).rejects.toThrow(
      'no signing key for toString',
    );
  });

  it('reuses loaded keys for 60 s, then reads the key table again and signs with the new key', async () => {
    const first = await keyPair('ES256', 'first');
    const second = await keyPair('ES256', 'second');
    let current = [first.priv];
    const privateJwks = jest.fn(async () => current);
    const m = new LogoutTokenMinter(ISS, { privateJwks });
    const clock = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    const mint = () => m.mint({ clientId: 'app', alg: 'ES256', typ: 'logout+jwt', sub: 'u1', sid: null });
    expect(decodeProtectedHeader(await mint()).kid).toBe('first');
    current = [second.priv];
    clock.mockReturnValue(1_060_000);
    expect(decodeProtectedHeader(await mint()).kid).toBe('first');
    expect(privateJwks).toHaveBeenCalledTimes(1);
    clock.mockReturnValue(1_060_001);
    const token = await mint();
    expect(decodeProtectedHeader(token).kid).toBe('second');
    expect(privateJwks).toHaveBeenCalledTimes(2);
    await expect(compactVerify(token, await importJWK(second.pub, 'ES256'))).resolves.toBeDefined();
  });

  it('reads the key table again on the next call after a failed read', async () => {
    const privateJwks = jest
      .fn<Promise<PrivateJwk[]>, []>()
      .mockRejectedValueOnce(new Error('database down'))
      .mockResolvedValue([keys.ES256.priv]);
    const m = new LogoutTokenMinter(ISS, { privateJwks });
    const mint = () => m.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: 'u1', sid: null });
    await expect(mint()).rejects.toThrow('database down');
    await expect(jwtVerify(await mint(), jwks)).resolves.toBeDefined();
    expect(privateJwks).toHaveBeenCalledTimes(2);
  });

  it('never signs with keys published only for verification (next and retired keys, key_ops verify)', async () => {
    const next = await keyPair('ES256', 'next');
    const retired = await keyPair('RS256', 'retired');
    const m = new LogoutTokenMinter(ISS, {
      privateJwks: async () => [keys.ES256.priv, { ...next.priv, key_ops: ['verify'] }, { ...retired.priv, key_ops: ['verify'] }],
    });
    const token = await m.mint({ clientId: 'app', alg: 'ES256', typ: 'logout+jwt', sub: 'u1', sid: null });
    expect(decodeProtectedHeader(token).kid).toBe('k-ES256');
    await expect(m.mint({ clientId: 'app', alg: 'RS256', typ: 'JWT', sub: 'u', sid: null })).rejects.toThrow(
      'no signing key for RS256',
    );
  });

  it('refuses a key whose type does not fit its algorithm', async () => {
    const m = new LogoutTokenMinter(ISS, { privateJwks: async () => [{ ...keys.RS256.priv, alg: 'ES256', kid: 'odd' }] });
    await expect(m.mint({ clientId: 'app', alg: 'ES256', typ: 'JWT', sub: 'u', sid: null })).rejects.toThrow(
      'signing key odd is not a P-256 key',
    );
  });
});
