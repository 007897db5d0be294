import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ClientsService } from '@slo/clients';
import { EndpointStateService, OutboxRelay, retryWindow } from '@slo/delivery';
import { AppError, ErrorCode } from '@slo/errors';
import { IsInstant } from '@slo/validation';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CurrentPrincipal, ownClientScope, Principal, RequireScopes } from '../auth/principal';

export class DisableEndpointDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class RecoverDto {
  @ApiProperty({ description: 'resend what did not succeed since this time (ISO 8601)' })
  @IsInstant()
  since!: string;

  @ApiPropertyOptional({ description: 'until this time (default: now)' })
  @IsOptional()
  @IsInstant()
  until?: string;
}

/** How long the old webhook secret keeps signing too after a rotation (seconds). */
const WEBHOOK_SECRET_GRACE_SECONDS = { default: 86_400, max: 7 * 86_400 };

export class RotateWebhookSecretDto {
  @ApiPropertyOptional({
    description: 'how long the old secret keeps signing too (seconds, at most 7 days)',
    default: WEBHOOK_SECRET_GRACE_SECONDS.default,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(WEBHOOK_SECRET_GRACE_SECONDS.max)
  grace_seconds?: number;
}

export class EnableEndpointDto {
  @ApiPropertyOptional({ description: 'also resend what did not succeed since this time (ISO 8601)' })
  @IsOptional()
  @IsInstant()
  recover_since?: string;
}

/** `me` means the caller; a client (client:self) may only name itself, others answer 404. */
function target(me: Principal, clientId: string): string {
  const id = clientId === 'me' ? me.clientId : clientId;
  const own = ownClientScope(me);
  if (own !== null && id !== own) throw new AppError(ErrorCode.NotFound, `client ${clientId} does not exist`);
  return id;
}

@ApiTags('endpoints')
@ApiBearerAuth()
@Controller('v1/clients/:clientId')
export class EndpointController {
  constructor(
    private readonly health: EndpointStateService,
    private readonly relay: OutboxRelay,
    private readonly clients: ClientsService,
  ) {}

  @Get('health')
  @RequireScopes('admin', 'client:self')
  @ApiOperation({ summary: 'Back-channel health: last hour success rate and latency, breaker, pending and dead counts' })
  async getHealth(@CurrentPrincipal() me: Principal, @Param('clientId') clientId: string) {
    const id = target(me, clientId);
    const health = await this.health.health(id);
    const breaker = await this.health.breakerState(id);
    return { ...health, breaker: { ...breaker, openUntil: undefined, open_until: breaker.openUntil?.toISOString() ?? null } };
  }

  @Post('disable')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Stop deliveries to the endpoint (they are kept as skipped); sign-in is unaffected' })
  async disable(@CurrentPrincipal() me: Principal, @Param('clientId') clientId: string, @Body() dto: DisableEndpointDto) {
    await this.health.setEndpointStatus(clientId, 'disabled', `disabled by ${me.clientId}${dto.reason ? `: ${dto.reason}` : ''}`);
    return this.health.health(clientId);
  }

  @Post('enable')
  @HttpCode(200)
  @RequireScopes('admin')
  @ApiOperation({ summary: 'Deliver to the endpoint again; with recover_since, resend what it missed' })
  async enable(@Param('clientId') clientId: string, @Body() dto: EnableEndpointDto) {
    const range = dto.recover_since ? retryWindow(dto.recover_since) : null;
    await this.health.setEndpointStatus(clientId, 'active', null);
    const recovered = range ? await this.relay.reopenForClient(clientId, range.since, range.until) : 0;
    return { ...(await this.health.health(clientId)), recovered };
  }

  @Post('webhook-secret')
  @HttpCode(200)
  @RequireScopes('admin', 'client:self')
  @ApiOperation({ summary: 'Rotate the webhook signing secret; the old one also signs during the grace period' })
  async rotateWebhookSecret(
    @CurrentPrincipal() me: Principal,
    @Param('clientId') clientId: string,
    @Body() dto: RotateWebhookSecretDto,
  ) {
    const id = target(me, clientId);
    const { secret, previousValidUntil } = await this.clients.rotateWebhookSecret(
      id,
      dto.grace_seconds ?? WEBHOOK_SECRET_GRACE_SECONDS.default,
    );
    return { client_id: id, webhook_secret: secret, previous_secret_valid_until: previousValidUntil.toISOString() };
  }

  @Post('recover')
  @HttpCode(202)
  @RequireScopes('admin', 'client:self')
  @ApiOperation({ summary: 'Resend every logout whose delivery to this client did not succeed in the window' })
  async recover(@CurrentPrincipal() me: Principal, @Param('clientId') clientId: string, @Body() dto: RecoverDto) {
    const id = target(me, clientId);
    await this.health.health(id);
    const range = retryWindow(dto.since, dto.until);
    return { client_id: id, recovered: await this.relay.reopenForClient(id, range.since, range.until) };
  }
}
