import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  AUTH_METHODS,
  DELIVERY_FORMATS,
  GRANT_TYPES,
  ID_TOKEN_ALGS,
  LOGOUT_TOKEN_SUBJECTS,
  LOGOUT_TOKEN_TYPS,
  MAX_URI_LENGTH,
  MAX_URIS,
  SERVER_SCOPES,
} from '@slo/clients';
import type { GrantType, ServerScope } from '@slo/clients';
import { DELIVERY_MAX_ATTEMPTS_RANGE, DELIVERY_TIMEOUT_RANGE_MS } from '@slo/config';
import type { DeliveryFormat, LogoutTokenSubject, LogoutTokenTyp, TokenEndpointAuthMethod } from '@slo/database';
import { IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CLIENT_ID_HINT, IsClientId, IsUriList, Omittable } from '@slo/validation';
import { PAGE_SIZES, PageQuery } from '../page-query';

/** A redirect, logout-redirect or origin list (the URI rules apply in the service). */
const URI_LIST = { maxItems: MAX_URIS, maxLength: MAX_URI_LENGTH };

/** Logout and redirect endpoints: the fields a client may also change about itself. */
export class SelfServiceClientDto {
  @ApiPropertyOptional({
    type: [String],
    description: 'exact-match redirect URIs (https; http only for loopback or in local development)',
  })
  @IsUriList(URI_LIST)
  redirect_uris?: string[];

  @ApiPropertyOptional({ type: [String] })
  @IsUriList(URI_LIST)
  post_logout_redirect_uris?: string[];

  @ApiPropertyOptional({
    type: [String],
    description: 'browser origins (scheme://host[:port]) allowed to call identity with credentials',
  })
  @IsUriList(URI_LIST)
  web_origins?: string[];

  @ApiPropertyOptional({ nullable: true, description: 'OIDC back-channel logout endpoint; null removes it' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_URI_LENGTH)
  backchannel_logout_uri?: string | null;

  @ApiPropertyOptional({ default: true })
  @Omittable()
  @IsBoolean()
  backchannel_logout_session_required?: boolean;

  @ApiPropertyOptional({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_URI_LENGTH)
  frontchannel_logout_uri?: string | null;

  @ApiPropertyOptional({
    enum: DELIVERY_FORMATS,
    default: 'logout_token',
    description: 'logout_token: OIDC Back-Channel Logout; webhook: JSON signed per Standard Webhooks (secret shown once)',
  })
  @Omittable()
  @IsIn(DELIVERY_FORMATS)
  delivery_format?: DeliveryFormat;

  @ApiPropertyOptional({ enum: LOGOUT_TOKEN_TYPS, default: 'logout+jwt', description: 'JWT for receivers predating Errata 1' })
  @Omittable()
  @IsIn(LOGOUT_TOKEN_TYPS)
  logout_token_typ?: LogoutTokenTyp;

  @ApiPropertyOptional({
    enum: LOGOUT_TOKEN_SUBJECTS,
    default: 'sid_and_sub',
    description:
      'sid: logout tokens that name a session carry sid without sub (for receivers that end every session of a sub); a logout of every session still names sub',
  })
  @Omittable()
  @IsIn(LOGOUT_TOKEN_SUBJECTS)
  logout_token_subject?: LogoutTokenSubject;

  @ApiPropertyOptional({ nullable: true, minimum: DELIVERY_TIMEOUT_RANGE_MS.min, maximum: DELIVERY_TIMEOUT_RANGE_MS.max })
  @IsOptional()
  @IsInt()
  @Min(DELIVERY_TIMEOUT_RANGE_MS.min)
  @Max(DELIVERY_TIMEOUT_RANGE_MS.max)
  delivery_timeout_ms?: number | null;

  @ApiPropertyOptional({ nullable: true, minimum: DELIVERY_MAX_ATTEMPTS_RANGE.min, maximum: DELIVERY_MAX_ATTEMPTS_RANGE.max })
  @IsOptional()
  @IsInt()
  @Min(DELIVERY_MAX_ATTEMPTS_RANGE.min)
  @Max(DELIVERY_MAX_ATTEMPTS_RANGE.max)
  delivery_max_attempts?: number | null;

  @ApiPropertyOptional({ default: true, description: 'be told when a session ends by expiry (trigger session_expired)' })
  @Omittable()
  @IsBoolean()
  notify_session_expired?: boolean;
}

/** Fields only operators set: grants, authentication, scopes, algorithm. */
class OperatorClientDto extends SelfServiceClientDto {
  @ApiPropertyOptional({ enum: GRANT_TYPES, isArray: true })
  @Omittable()
  @IsArray()
  @IsIn(GRANT_TYPES, { each: true })
  grant_types?: GrantType[];

  @ApiPropertyOptional({ enum: AUTH_METHODS })
  @Omittable()
  @IsIn(AUTH_METHODS)
  token_endpoint_auth_method?: TokenEndpointAuthMethod;

  @ApiPropertyOptional({ enum: SERVER_SCOPES, isArray: true, description: 'scopes the client may obtain in server tokens' })
  @Omittable()
  @IsArray()
  @IsIn(SERVER_SCOPES, { each: true })
  server_scopes?: ServerScope[];

  @ApiPropertyOptional({ enum: ID_TOKEN_ALGS })
  @Omittable()
  @IsIn(ID_TOKEN_ALGS)
  id_token_signed_response_alg?: (typeof ID_TOKEN_ALGS)[number];
}

export class UpdateClientDto extends OperatorClientDto {
  @ApiPropertyOptional()
  @Omittable()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  client_name?: string;
}

export class CreateClientDto extends OperatorClientDto {
  @ApiPropertyOptional({ description: 'chosen client_id (3-100 of A-Z a-z 0-9 . _ : -); generated when absent' })
  @IsOptional()
  @IsString()
  @IsClientId({ message: CLIENT_ID_HINT })
  client_id?: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  client_name!: string;
}

export class ListClientsQueryDto extends PageQuery(PAGE_SIZES.clients) {}
