import { ApiPropertyOptional } from '@nestjs/swagger';
import { DELIVERY_STATUSES, LOGOUT_TRIGGERS } from '@slo/database';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsClientId, IsInstant, IsUuid } from '@slo/validation';
import { PAGE_SIZES, PageQuery } from '../page-query';

class PageQueryDto extends PageQuery(PAGE_SIZES.deliveries) {
  @ApiPropertyOptional({ description: 'created at or after (ISO 8601)' })
  @IsOptional()
  @IsInstant()
  since?: string;

  @ApiPropertyOptional({ description: 'created before (ISO 8601)' })
  @IsOptional()
  @IsInstant()
  until?: string;
}

export class ListEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(255)
  sub?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(128)
  sid?: string;

  @ApiPropertyOptional({ description: 'events with a delivery to this client' })
  @IsOptional()
  @IsClientId()
  client_id?: string;

  @ApiPropertyOptional({ enum: LOGOUT_TRIGGERS })
  @IsOptional()
  @IsIn(LOGOUT_TRIGGERS)
  trigger?: string;
}

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsClientId()
  client_id?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUuid()
  event_id?: string;
}

export class RetryQueryDto {
  @ApiPropertyOptional({ description: 'retry a delivered delivery too' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  force?: boolean;
}
