import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ServerTokenVerifier, TokenRejected } from '@slo/auth';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { hashStoredId } from '@slo/sessions';
import type Provider from 'oidc-provider';
import { DataSource } from 'typeorm';
import { OIDC_PROVIDER } from '../oidc/oidc-provider.token';

/** A user's access token as the provider stored it. */
export interface UserToken {
  clientId: string;
  accountId: string;
  grantId: string;
  sessionUid: string | null;
}

/**
 * Token checks of the logout endpoints: user access tokens (opaque, stored by the provider) and
 * server tokens (JWTs for the api), which pass the api's own verifier (@slo/auth): same keys,
 * algorithms, required claims, current client scopes and secret rotation.
 */
@Injectable()
export class LogoutTokens {
  constructor(
    @Inject(OIDC_PROVIDER) private readonly provider: Provider,
    @InjectDataSource() private readonly db: DataSource,
    private readonly serverTokens: ServerTokenVerifier,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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

  /** Revokes the grant behind a user token: the token itself, its refresh tokens and the grant. */
  async revokeGrant(grantId: string): Promise<void> {
    // The Grant row is stored under the hash of its id (PgOidcAdapter).
    await this.db.query(`DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $2)`, [
      grantId,
      hashStoredId(this.config.identity.tokenHashKey, grantId),
    ]);
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
