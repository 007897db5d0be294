import { All, Body, Controller, Headers, HttpCode, Query } from '@nestjs/common';
import { AppError, ErrorCode } from '@slo/errors';
import { LogoutService } from '@slo/logout';
import { AppLogout } from './app-logout.service';
import { TokenChecks } from './token-checks';

function bearer(header: string | undefined): string {
  const match = /^Bearer ([\x21-\x7e]+)$/i.exec(header ?? '');
  if (!match) throw new AppError(ErrorCode.Unauthenticated, 'an Authorization: Bearer token is required');
  return match[1];
}

/**
 * API logout for mobile and native apps (`POST /api/2/logout`, and `GET` as the original allowed):
 * with the user's access token it revokes that app's grant (token and refresh tokens) and tells the
 * app's back channel; the user's other apps and devices stay signed in. With a server token of
 * scope `admin` and a `sub`, it ends every session and token of that user (`all_sessions`).
 */
@Controller('api/2/logout')
export class ApiLogoutController {
  constructor(
    private readonly tokenChecks: TokenChecks,
    private readonly appLogout: AppLogout,
    private readonly logouts: LogoutService,
  ) {}

  @All()
  @HttpCode(200)
  async logoutApi(
    @Headers('authorization') authorization: string | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @Query('sub') subQuery: unknown,
  ): Promise<{ logged_out: true; event_id: string; scope: 'app' | 'all_sessions' }> {
    const value = bearer(authorization);
    const user = await this.tokenChecks.findUserToken(value);
    if (user) {
      const recorded = await this.appLogout.logOut(user);
      return { logged_out: true, event_id: recorded.event.id, scope: 'app' };
    }
    const admin = await this.tokenChecks.serverTokenClient(value, 'admin');
    if (!admin) throw new AppError(ErrorCode.InvalidToken, 'the token is unknown, expired, revoked or lacks scope admin');
    const sub = body?.sub ?? subQuery;
    if (typeof sub !== 'string' || !sub || sub.length > 255)
      throw AppError.validation('sub', 'the user to log out everywhere is required');
    // Every session and token of the user ends; every client that took part is told.
    const recorded = await this.logouts.record({ trigger: 'all_sessions', sub, initiatorClientId: admin });
    return { logged_out: true, event_id: recorded.event.id, scope: 'all_sessions' };
  }
}
