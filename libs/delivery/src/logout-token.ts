import type { LogoutTokenTyp } from '@slo/database';
import { SigningKeysService, type PrivateJwk } from '@slo/keys';
import { importJWK, SignJWT, type CryptoKey, type KeyObject } from 'jose';
import { randomUUID } from 'node:crypto';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Logout tokens live two minutes: long enough for clock skew, short enough to be useless when replayed later. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;
/** How long imported keys are reused before the key table is read again (rotation takes effect within this). */
const KEY_CACHE_MS = 60_000;

export interface LogoutTokenInput {
  clientId: string;
  alg: string;
  typ: LogoutTokenTyp;
  sub: string | null;
  sid: string | null;
}

interface SigningKey {
  kid: string;
  alg: string;
  key: CryptoKey | KeyObject | Uint8Array;
}

/**
 * Mints OIDC Back-Channel Logout 1.0 (Errata 1) logout tokens with the identity's signing keys:
 * iss, aud, iat, exp, jti, events and sub and/or sid, never nonce; a fresh token for every attempt.
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
    const key = await this.keyFor(input.alg);
    const iat = Math.floor(now / 1000);
    const claims: Record<string, unknown> = {
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...(input.sub ? { sub: input.sub } : {}),
      ...(input.sid ? { sid: input.sid } : {}),
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: input.typ })
      .setIssuer(this.issuer)
      .setAudience(input.clientId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + LOGOUT_TOKEN_TTL_SECONDS)
      .setJti(randomUUID())
      .sign(key.key);
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
    return Promise.all(jwks.map(async (jwk) => ({ kid: jwk.kid, alg: jwk.alg, key: await importJWK(jwk, jwk.alg) })));
  }
}
