import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ClientsService } from '@slo/clients';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { LogoutService, RecordedLogout } from '@slo/logout';
import { revokeGrant } from '@slo/sessions';
import { DataSource } from 'typeorm';
import type { UserToken } from './token-checks';

/**
 * One application's sign-in ends, the user's identity session and other apps stay: the grant
 * behind a user token is revoked (`GET /logout`'s `oauth_token`, `/api/2/logout`), and for
 * `/api/2/logout` that app's back channel is told.
 */
@Injectable()
export class AppLogout {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logouts: LogoutService,
    private readonly clients: ClientsService,
  ) {}

  /** Revokes the grant behind a user token: the token itself, its refresh tokens and the grant. */
  revokeGrant(token: UserToken): Promise<void> {
    return revokeGrant(this.db, this.config.identity.tokenHashKey, token.grantId);
  }

  /** Revokes the token's grant, then records an `api_logout` that tells only that app's back channel. */
  async logOut(token: UserToken): Promise<RecordedLogout> {
    await this.revokeGrant(token);
    const client = await this.clients.findActive(token.clientId);
    return this.logouts.record({
      trigger: 'api_logout',
      sub: token.accountId,
      sid: token.sessionUid,
      initiatorClientId: token.clientId,
      targetClientIds: client?.backchannelLogoutUri ? [token.clientId] : [],
      keepSessions: true,
    });
  }
}
