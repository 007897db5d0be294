import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { createRemoteJWKSet, errors, jwtVerify, JWTPayload } from 'jose';

export class TokenRejected extends Error {}

/** Verifies server tokens: JWT access tokens issued by the identity service for this api. */
@Injectable()
export class TokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Re-read the JWKS well within the time a rotated key is published before it signs.
    const cacheMaxAge = Math.min(10 * 60_000, config.keys.publishDelaySeconds * 500);
    this.jwks = createRemoteJWKSet(new URL(`${config.identity.internalUrl}/jwks`), {
      cooldownDuration: Math.min(30_000, cacheMaxAge / 2),
      cacheMaxAge,
    });
  }

  async verify(token: string): Promise<{ clientId: string; scopes: string[]; payload: JWTPayload }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.config.identity.issuer,
        audience: this.config.api.audience,
        typ: 'at+jwt',
        algorithms: ['ES256', 'RS256'],
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
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    return { clientId, scopes, payload };
  }
}
