import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { batchView, RETRYABLE_STATUSES, RetryBatchService } from '@slo/delivery';
import { AppError, ErrorCode } from '@slo/errors';
import { IsClientId, IsInstant } from '@slo/validation';
import { ArrayMinSize, IsArray, IsIn, IsOptional } from 'class-validator';
import { CurrentPrincipal, ownClientScope, Principal, RequireScopes } from '../auth/principal';

export class CreateRetryBatchDto {
  @ApiPropertyOptional({ description: 'only this client’s deliveries (a client:self caller: always its own)' })
  @IsOptional()
  @IsClientId()
  client_id?: string;

  @ApiPropertyOptional({ enum: RETRYABLE_STATUSES, isArray: true, default: ['dead', 'rejected'] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(RETRYABLE_STATUSES, { each: true })
  statuses?: string[];

  @ApiProperty({ description: 'deliveries created at or after (ISO 8601)' })
  @IsInstant()
  since!: string;

  @ApiPropertyOptional({ description: 'deliveries created before (default: now)' })
  @IsOptional()
  @IsInstant()
  until?: string;
}

/** Bulk retries as tracked background batches. */
@ApiTags('retries')
@ApiBearerAuth()
@RequireScopes('admin', 'client:self')
@Controller('v1/retries')
export class RetriesController {
  constructor(private readonly batches: RetryBatchService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a bulk retry of the deliveries matching a filter; answers the batch' })
  async create(@CurrentPrincipal() me: Principal, @Body() dto: CreateRetryBatchDto) {
    const own = ownClientScope(me);
    if (own && dto.client_id && dto.client_id !== own)
      throw new AppError(ErrorCode.NotFound, `client ${dto.client_id} does not exist`);
    const batch = await this.batches.create(me.clientId, {
      clientId: own ?? dto.client_id ?? null,
      statuses: dto.statuses ?? ['dead', 'rejected'],
      since: new Date(dto.since),
      until: dto.until ? new Date(dto.until) : new Date(),
    });
    return batchView(batch);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Progress of a batch: total, done, succeeded, failed, state' })
  async get(@CurrentPrincipal() me: Principal, @Param('id') id: string) {
    return batchView(await this.batches.get(id, ownClientScope(me)));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a batch (attempts in flight finish)' })
  async cancel(@CurrentPrincipal() me: Principal, @Param('id') id: string) {
    return batchView(await this.batches.cancel(id, ownClientScope(me)));
  }
}
