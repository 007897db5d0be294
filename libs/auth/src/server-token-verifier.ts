import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClientsService } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { SigningKeyEntity } from '@slo/database';
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { DataSource, In } from 'typeorm';

/** A server token that must be answered 401 (the message says why, without echoing the token). */
export class TokenRejected extends Error {}

export interface VerifiedServerToken {
  clientId: string;
  /** What the caller may do now: the token's scopes that the client still holds in `server_scopes`. */
  scopes: string[];
  payload: JWTPayload;
}

/** Only the algorithms the identity service signs with; `none` and HMAC (HS256 with a public key) never verify. */
const SERVER_TOKEN_ALGS = ['ES256', 'RS256'];

/** After a token names an unknown key id, the key table is re-read at most this often. */
const UNKNOWN_KID_COOLDOWN_MS = 1000;

interface KeySet {
  getKey: JWTVerifyGetKey;
  kids: Set<string>;
  at: number;
}

/**
 * The one verifier of server tokens (JWT access tokens that identity issues to clients with
 * client_credentials), used by the api's guard and by identity's `/api/2/logout`.
 *
 * - Signature: ES256 or RS256 only, with a key that signs (`active`) or signed and is still
 *   published (`retired`, within its grace period). A `next` key is published ahead of its use
 *   but never signs, so a token carrying its kid is refused.
 * - Claims: issuer, audience (the api), `typ: at+jwt`, required `exp`, `iat`, `sub`, `client_id`,
 *   `sub === client_id` (a user's token is not a server token), `scope` a string when present.
 * - The client as it is now, read on every call (no cache, so a change applies to the next request):
 *   registered and active; the token issued at or after its last secret rotation; and the token's
 *   scopes intersected with its current `server_scopes`.
 */
@Injectable()
export class ServerTokenVerifier {
  private keys: KeySet | null = null;
  private loading: Promise<KeySet> | null = null;
  private readonly keyCacheMs: number;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: ClientsService,
  ) {
    // A key change reaches identity instances within KEY_RELOAD_SECONDS; the verifier follows as fast.
    this.keyCacheMs = Math.min(60_000, config.keys.reloadSeconds * 1000);
  }

  async verify(token: string): Promise<VerifiedServerToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (header, jws) => this.keyFor(header, jws), {
        issuer: this.config.identity.issuer,
        audience: this.config.api.audience,
        typ: 'at+jwt',
        algorithms: SERVER_TOKEN_ALGS,
        requiredClaims: ['exp', 'iat', 'sub', 'client_id'],
        clockTolerance: 5,
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new TokenRejected('the access token has expired');
      if (err instanceof errors.JOSEError) throw new TokenRejected(`the access token is invalid (${err.code})`);
      throw err;
    }
    const clientId = payload.client_id;
    if (typeof clientId !== 'string' || payload.sub !== clientId) {
      throw new TokenRejected('a server token (client_credentials) is required, not a user token');
    }
    if (payload.scope !== undefined && typeof payload.scope !== 'string') {
      throw new TokenRejected('the access token is invalid (scope must be a space-separated string)');
    }
    const client = await this.clients.findActive(clientId);
    if (!client) throw new TokenRejected(`client ${clientId} is no longer registered or is disabled`);
    if (client.secretRotatedAt && !issuedAtOrAfter(payload.iat!, client.secretRotatedAt)) {
      throw new TokenRejected('the access token was issued before the client secret was last rotated');
    }
    const current = new Set(client.serverScopes);
    const scopes = (payload.scope ?? '').split(' ').filter((s) => s && current.has(s));
    return { clientId, scopes, payload };
  }

  private async keyFor(header: JWTHeaderParameters, token: FlattenedJWSInput) {
    let keys = await this.keySet();
    const unknown = typeof header.kid !== 'string' || !keys.kids.has(header.kid);
    if (unknown && Date.now() - keys.at >= UNKNOWN_KID_COOLDOWN_MS) keys = await this.reload();
    // Throws JWKSNoMatchingKey for an unknown kid, or one of a key of another type or algorithm.
    return keys.getKey(header, token);
  }

  private async keySet(): Promise<KeySet> {
    if (this.keys && Date.now() - this.keys.at < this.keyCacheMs) return this.keys;
    return this.reload();
  }

  /** Re-reads the keys that sign or signed; concurrent callers share one query. */
  private reload(): Promise<KeySet> {
    this.loading ??= this.db
      .getRepository(SigningKeyEntity)
      .find({ where: { state: In(['active', 'retired']) } })
      .then((rows) => {
        this.keys = {
          getKey: createLocalJWKSet({ keys: rows.map((r) => r.publicJwk) } as JSONWebKeySet),
          kids: new Set(rows.map((r) => r.kid)),
          at: Date.now(),
        };
        return this.keys;
      })
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}

/**
 * `iat` has whole seconds; the rotation has milliseconds. A token counts as issued after the
 * rotation only when its whole second starts at or after it (so a token from the same second
 * before the rotation is refused); the rotation answer waits for the next full second, so a
 * token obtained with the new secret always passes.
 */
export function issuedAtOrAfter(iat: number, rotatedAt: Date): boolean {
  return iat * 1000 >= rotatedAt.getTime();
}
