import { Inject, Injectable } from '@nestjs/common';
import { ServerTokenVerifier, TokenRejected } from '@slo/auth';
import type Provider from 'oidc-provider';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';

/** A user's access token as the provider stored it. */
export interface UserToken {
  clientId: string;
  accountId: string;
  grantId: string;
  sessionUid: string | null;
}

/**
 * Checks of the tokens a logout request presents (`/api/2/logout`, `GET /logout`'s `oauth_token`):
 * user access tokens (opaque, stored by the provider) and server tokens (JWTs for the api), which
 * pass the api's own verifier (@slo/auth): same keys, algorithms, required claims, current client
 * scopes and secret rotation. Reads only; revoking is AppLogout's.
 */
@Injectable()
export class TokenChecks {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    private readonly serverTokens: ServerTokenVerifier,
  ) {}

  /** The live user access token, or null (unknown, expired, revoked, or not a user's token). */
  async findUserToken(value: string): Promise<UserToken | null> {
    const token = await this.provider.AccessToken.find(value);
    if (!token || token.isExpired || !token.accountId || !token.grantId) return null;
    return {
      clientId: token.clientId!,
      accountId: token.accountId,
      grantId: token.grantId,
      sessionUid: token.sessionUid ?? null,
    };
  }

  /** The client behind a valid server token whose client still holds `scope`, or null. */
  async serverTokenClient(value: string, scope: string): Promise<string | null> {
    try {
      const verified = await this.serverTokens.verify(value);
      return verified.scopes.includes(scope) ? verified.clientId : null;
    } catch (err) {
      if (err instanceof TokenRejected) return null;
      throw err;
    }
  }
}
