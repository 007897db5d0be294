import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { LogoutService } from '@slo/logout';
import { AppError } from '@slo/errors';
import { RateLimits, throwTooManyRequests } from '@slo/ratelimit';
import type { Response } from 'express';
import { CurrentPrincipal, Principal, RequireScopes } from '../auth/principal';
import { CreateLogoutEventDto, LogoutEventAccepted, toAccepted } from './logout-event.dto';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Ingestion for external identity platforms (scope `logout:emit`). */
@ApiTags('logout-events')
@ApiBearerAuth()
@Controller('v1/logout-events')
export class LogoutEventsController {
  constructor(
    private readonly logouts: LogoutService,
    private readonly limits: RateLimits,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScopes('logout:emit')
  @ApiOperation({ summary: 'Record a logout from an external identity platform; its deliveries start at once' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'same key and body: same event; other body: 409' })
  async create(
    @CurrentPrincipal() me: Principal,
    @Body() dto: CreateLogoutEventDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LogoutEventAccepted> {
    const limited = await this.limits.ingest.consume(me.clientId);
    if (limited) throwTooManyRequests(res, limited);
    if (!dto.sub && !dto.sid) throw AppError.validation('sub', 'sub, sid or both are required');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw AppError.validation('Idempotency-Key', 'must be 1-255 visible ASCII characters');
    }
    const recorded = await this.logouts.record({
      trigger: 'external',
      sub: dto.sub ?? null,
      sid: dto.sid ?? null,
      initiatorClientId: me.clientId,
      targetClientIds: dto.target_clients,
      idempotencyKey: idempotencyKey ?? null,
      occurredAt: dto.occurred_at ? new Date(dto.occurred_at) : undefined,
    });
    if (recorded.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return toAccepted(recorded);
  }
}
