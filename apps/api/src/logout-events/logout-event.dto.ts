import { ApiPropertyOptional } from '@nestjs/swagger';
import type { RecordedLogout } from '@slo/logout';
import { ArrayMaxSize, IsArray, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsClientId, IsInstant } from '@slo/validation';

const MAX_TARGET_CLIENTS = 100;

/** A logout that happened at an external identity platform, to be told to our clients. */
export class CreateLogoutEventDto {
  @ApiPropertyOptional({ description: 'subject; without sid, every session of the subject is meant' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  sub?: string;

  @ApiPropertyOptional({ description: 'the session that ended' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  sid?: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'tell only these clients (each needs a backchannel_logout_uri); default: the clients of the session(s)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_TARGET_CLIENTS)
  @IsString({ each: true })
  @IsClientId({ each: true })
  target_clients?: string[];

  @ApiPropertyOptional({ description: 'when the logout happened (ISO 8601); default: now' })
  @IsOptional()
  @IsInstant()
  occurred_at?: string;
}

export interface LogoutEventAccepted {
  event_id: string;
  trigger: string;
  sub: string | null;
  sid: string | null;
  occurred_at: string;
  created_at: string;
  deliveries: { id: string; client_id: string; sid: string | null; status: string }[];
}

export function toAccepted({ event, deliveries }: RecordedLogout): LogoutEventAccepted {
  return {
    event_id: event.id,
    trigger: event.trigger,
    sub: event.sub,
    sid: event.sid,
    occurred_at: event.occurredAt.toISOString(),
    created_at: event.createdAt.toISOString(),
    deliveries: deliveries.map((d) => ({ id: d.id, client_id: d.clientId, sid: d.sid || null, status: d.status })),
  };
}
