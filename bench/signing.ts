import { LogoutTokenMinter } from '../libs/delivery/src/logout-token';
import type { PrivateJwk } from '@slo/keys';
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose';
import { createPrivateKey, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';

/**
 * How a logout token is signed:
 *   jose         jose's SignJWT with a key imported once by importJWK (WebCrypto on Node, which
 *                signs ES256 and RS256 alike on libuv's thread pool);
 *   node         node:crypto `sign()` with a cached KeyObject, synchronous, header and payload
 *                base64url-encoded and joined by hand (ES256 signatures in IEEE P1363 form);
 *   node-async   the same with `sign()`'s callback form, which signs on libuv's thread pool;
 *   minter       LogoutTokenMinter as the worker uses it (key cache, jti, claims and all).
 */
export type SigningImpl = 'jose' | 'node' | 'node-async' | 'minter';

export interface SigningRate {
  alg: 'ES256' | 'RS256';
  /** One signature at a time, per second of wall time. */
  sequential: number;
  /** `inFlight` signatures at once, per second of wall time (thread-pool signers may use more than one core). */
  parallel: number;
  inFlight: number;
  /** Signatures per CPU-second of this process during the parallel run: what one core makes. */
  perCore: number;
  /** Signatures per CPU-second of this process during the sequential run. */
  sequentialPerCore?: number;
  /** Which signer was measured. */
  impl: SigningImpl;
}

export const BENCH_ISSUER = 'http://localhost:4000';
export const BENCH_CLIENT = 'bench-client-0001';
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What every signer of the bench puts in a token: the worker's header and claims. */
export interface TokenFields {
  kid: string;
  typ: 'logout+jwt' | 'JWT';
  iat: number;
  jti: string;
  sub: string;
  sid: string;
}

export type TokenSigner = (fields: TokenFields) => Promise<string>;

export async function benchKey(alg: 'ES256' | 'RS256', kid = randomUUID()): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
}

/** jose SignJWT with a key imported once: the reference the node:crypto signers are checked and measured against. */
async function joseSigner(jwk: PrivateJwk): Promise<TokenSigner> {
  const key = await importJWK(jwk, jwk.alg);
  return (f) =>
    new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, sub: f.sub, sid: f.sid })
      .setProtectedHeader({ alg: jwk.alg, kid: f.kid, typ: f.typ })
      .setIssuer(BENCH_ISSUER)
      .setAudience(BENCH_CLIENT)
      .setIssuedAt(f.iat)
      .setExpirationTime(f.iat + 120)
      .setJti(f.jti)
      .sign(key);
}

/** node:crypto `sign()` with a KeyObject created once; the same header and payload bytes as jose's. */
function nodeSigner(jwk: PrivateJwk, mode: 'sync' | 'async'): TokenSigner {
  const keyObject: KeyObject = createPrivateKey({ key: jwk as never, format: 'jwk' });
  const key = jwk.alg === 'ES256' ? { key: keyObject, dsaEncoding: 'ieee-p1363' as const } : keyObject;
  const b64u = (s: string) => Buffer.from(s).toString('base64url');
  return async (f) => {
    const header = b64u(JSON.stringify({ alg: jwk.alg, kid: f.kid, typ: f.typ }));
    const payload = b64u(
      JSON.stringify({
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
        sub: f.sub,
        sid: f.sid,
        iss: BENCH_ISSUER,
        aud: BENCH_CLIENT,
        iat: f.iat,
        exp: f.iat + 120,
        jti: f.jti,
      }),
    );
    const input = `${header}.${payload}`;
    const signature =
      mode === 'sync'
        ? cryptoSign('sha256', Buffer.from(input), key)
        : await new Promise<Buffer>((resolve, reject) =>
            cryptoSign('sha256', Buffer.from(input), key, (err, sig) => (err ? reject(err) : resolve(sig))),
          );
    return `${input}.${signature.toString('base64url')}`;
  };
}

/** The production minter; kid and typ of the fields are the key's and the client's, jti and iat its own. */
function minterSigner(jwk: PrivateJwk): TokenSigner {
  const minter = new LogoutTokenMinter(BENCH_ISSUER, { privateJwks: async () => [jwk] });
  return (f) => minter.mint({ clientId: BENCH_CLIENT, alg: jwk.alg, typ: f.typ, sub: f.sub, sid: f.sid });
}

export async function signerFor(impl: SigningImpl, jwk: PrivateJwk): Promise<TokenSigner> {
  switch (impl) {
    case 'jose':
      return joseSigner(jwk);
    case 'node':
      return nodeSigner(jwk, 'sync');
    case 'node-async':
      return nodeSigner(jwk, 'async');
    case 'minter':
      return minterSigner(jwk);
  }
}

/**
 * Logout tokens per second, claims shaped like the worker's (iss, aud, iat, exp, jti, events,
 * sub, sid), for `seconds` each: one at a time, then `inFlight` at once; the process's CPU time
 * during each gives signatures per core-second. `impl` picks the signer (jose by default, as
 * bench/fanout.ts labels it).
 */
export async function measureSigning(
  alg: 'ES256' | 'RS256',
  seconds: number,
  inFlight = 8,
  impl: SigningImpl = 'jose',
): Promise<SigningRate> {
  const jwk = await benchKey(alg);
  const signer = await signerFor(impl, jwk);
  const sign = () =>
    signer({
      kid: jwk.kid,
      typ: 'logout+jwt',
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      sub: 'bench-sub-000001',
      sid: 'bench-sid-000001',
    });
  for (let i = 0; i < 20; i++) await sign(); // warm-up
  const rate = async (lanes: number) => {
    let count = 0;
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (performance.now() < end) {
          await sign();
          count++;
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    return { wall: count / ((performance.now() - started) / 1000), perCpuSecond: count / ((used.user + used.system) / 1e6) };
  };
  const sequential = await rate(1);
  const parallel = await rate(inFlight);
  return {
    alg,
    sequential: sequential.wall,
    parallel: parallel.wall,
    inFlight,
    perCore: parallel.perCpuSecond,
    sequentialPerCore: sequential.perCpuSecond,
    impl,
  };
}
