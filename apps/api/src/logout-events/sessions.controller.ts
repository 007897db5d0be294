import { Controller, Delete, HttpCode, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LogoutService } from '@slo/logout';
import { AppError, ErrorCode } from '@slo/errors';
import { findSession } from '@slo/sessions';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Principal, RequireScopes } from '../auth/principal';
import { LogoutEventAccepted, toAccepted } from './logout-event.dto';

/** Operators end identity sessions (scope `admin`); every client that took part is told. */
@ApiTags('sessions')
@ApiBearerAuth()
@RequireScopes('admin')
@Controller('v1')
export class SessionsController {
  constructor(
    private readonly logouts: LogoutService,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  @Delete('sessions/:sid')
  @HttpCode(202)
  @ApiOperation({ summary: 'End one identity session (admin_revoke)' })
  async endSession(@CurrentPrincipal() me: Principal, @Param('sid') sid: string): Promise<LogoutEventAccepted> {
    const session = sid.length <= 128 ? await findSession(this.db, sid) : null;
    if (!session) throw new AppError(ErrorCode.NotFound, `session ${sid} does not exist or has ended`);
    return toAccepted(
      await this.logouts.record({ trigger: 'admin_revoke', sid, sub: session.sub, initiatorClientId: me.clientId }),
    );
  }

  @Delete('users/:sub/sessions')
  @HttpCode(202)
  @ApiOperation({ summary: 'End every session and token of a user (all_sessions)' })
  async endAllSessions(@CurrentPrincipal() me: Principal, @Param('sub') sub: string): Promise<LogoutEventAccepted> {
    if (sub.length > 255) throw AppError.validation('sub', 'must be at most 255 characters');
    return toAccepted(await this.logouts.record({ trigger: 'all_sessions', sub, initiatorClientId: me.clientId }));
  }
}
