import type { LogoutTokenSubject, LogoutTokenTyp } from '@slo/database';
import { SigningKeysService, type PrivateJwk } from '@slo/keys';
import { createPrivateKey, randomUUID, sign, type JsonWebKey, type KeyObject, type SignKeyObjectInput } from 'node:crypto';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Logout tokens live two minutes: long enough for clock skew, short enough to be useless when replayed later. */
const LOGOUT_TOKEN_TTL_SECONDS = 120;
/** How long imported keys are reused before the key table is read again (rotation takes effect within this). */
const KEY_CACHE_MS = 60_000;

export interface LogoutTokenInput {
  clientId: string;
  alg: string;
  typ: LogoutTokenTyp;
  /** The client's `logout_token_subject`: with `sid`, a token that names a session leaves `sub` out. Default `sid_and_sub`. */
  subject?: LogoutTokenSubject;
  sub: string | null;
  sid: string | null;
}

interface SigningKey {
  kid: string;
  alg: string;
  /** `base64url(protected header) + '.'` by typ, encoded once per key and typ. */
  headers: Map<string, string>;
  sign(input: Buffer): Buffer | Promise<Buffer>;
}

/**
 * How each algorithm signs with node:crypto (bench/signing-compare.ts measured these against jose):
 * ES256 synchronously, with the signature as JWS wants it (IEEE P1363 r||s, 64 bytes, not DER),
 * since one takes tens of microseconds and handing it to a thread costs more than it does; RS256
 * (RSASSA-PKCS1-v1_5 with SHA-256) on libuv's thread pool, since one takes most of a millisecond
 * and would otherwise hold up the event loop, while costing within a few per cent of the same CPU.
 */
const ALGS = new Map<string, (key: KeyObject, kid: string) => SigningKey['sign']>([
  [
    'ES256',
    (key, kid) => {
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new Error(`signing key ${kid} is not a P-256 key, so it cannot sign ES256`);
      }
      const input: SignKeyObjectInput = { key, dsaEncoding: 'ieee-p1363' };
      return (data) => sign('sha256', data, input);
    },
  ],
  [
    'RS256',
    (key, kid) => {
      if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
        throw new Error(`signing key ${kid} is not an RSA key of 2048 bits or more, so it cannot sign RS256`);
      }
      return (data) =>
        new Promise((resolve, reject) => sign('sha256', data, key, (err, signature) => (err ? reject(err) : resolve(signature))));
    },
  ],
]);

const base64url = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

/**
 * Mints OIDC Back-Channel Logout 1.0 (Errata 1) logout tokens with the identity's signing keys:
 * iss, aud, iat, exp, jti, events and sub and/or sid, never nonce; a fresh token for every attempt.
 * Signed with node:crypto and KeyObjects made once per key load; header and claims are the bytes
 * jose's SignJWT produced before.
 */
export class LogoutTokenMinter {
  private keys: Promise<SigningKey[]> | null = null;
  private loadedAt = 0;

  constructor(
    private readonly issuer: string,
    private readonly signingKeys: Pick<SigningKeysService, 'privateJwks'>,
  ) {}

  async mint(input: LogoutTokenInput, now = Date.now()): Promise<string> {
    if (!input.sub && !input.sid) throw new Error('a logout token needs sub or sid');
    // sid-only clients: `sub` only when there is no `sid` (every session of the user ended), since
    // Back-Channel Logout requires one of the two and a token without either ends nothing.
    const sub = input.subject === 'sid' && input.sid ? null : input.sub;
    const key = await this.keyFor(input.alg);
    const iat = Math.floor(now / 1000);
    // The claims in the order SignJWT wrote them: the body, then iss, aud, iat, exp, jti.
    const payload = base64url({
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...(sub ? { sub } : {}),
      ...(input.sid ? { sid: input.sid } : {}),
      iss: this.issuer,
      aud: input.clientId,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
      jti: randomUUID(),
    });
    let header = key.headers.get(input.typ);
    if (header === undefined) {
      header = `${base64url({ alg: key.alg, kid: key.kid, typ: input.typ })}.`;
      key.headers.set(input.typ, header);
    }
    const signingInput = header + payload;
    const signature = await key.sign(Buffer.from(signingInput));
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  private async keyFor(alg: string): Promise<SigningKey> {
    if (!this.keys || Date.now() - this.loadedAt > KEY_CACHE_MS) {
      this.loadedAt = Date.now();
      this.keys = this.load().catch((err: unknown) => {
        this.keys = null;
        throw err;
      });
    }
    // Active keys come first, so the first key of the algorithm is the one that signs.
    const key = (await this.keys).find((k) => k.alg === alg);
    if (!key) throw new Error(`no signing key for ${alg}`);
    return key;
  }

  private async load(): Promise<SigningKey[]> {
    const jwks: PrivateJwk[] = await this.signingKeys.privateJwks();
    return (
      jwks
        // Keys only published for verification (next, retired) carry key_ops: ['verify'] and never sign.
        .filter((jwk) => !Array.isArray(jwk.key_ops) || jwk.key_ops.includes('sign'))
        .flatMap((jwk): SigningKey[] => {
          const signer = ALGS.get(jwk.alg);
          if (!signer) return [];
          const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
          return [{ kid: jwk.kid, alg: jwk.alg, headers: new Map(), sign: signer(key, jwk.kid) }];
        })
    );
  }
}
