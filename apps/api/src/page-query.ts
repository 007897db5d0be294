import { ApiPropertyOptional } from '@nestjs/swagger';
import type { PageRequest } from '@slo/database';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** Page sizes of the list endpoints: the default when `limit` is absent and the largest allowed. */
export const PAGE_SIZES = {
  clients: { default: 20, max: 100 },
  deliveries: { default: 50, max: 200 },
} as const;

/** The longest cursor the api writes (a client id of 200 characters and an instant, base64url). */
const MAX_CURSOR_LENGTH = 500;

export interface PageQuery {
  cursor?: string;
  limit?: number;
}

/** The `cursor` and `limit` query parameters every list endpoint takes, with its page size. */
export function PageQuery(size: { default: number; max: number }) {
  class PageQueryBase implements PageQuery {
    @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
    @IsOptional()
    @IsString()
    @MaxLength(MAX_CURSOR_LENGTH)
    cursor?: string;

    @ApiPropertyOptional({ minimum: 1, maximum: size.max, default: size.default })
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(1)
    @Max(size.max)
    limit?: number;
  }
  return PageQueryBase;
}

/** What the pager is asked for: the cursor and the limit, defaulted to the endpoint's page size. */
export function pageRequest(q: PageQuery, size: { default: number }): PageRequest {
  return { cursor: q.cursor, limit: q.limit ?? size.default };
}
