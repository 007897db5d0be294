import { Controller, Get, Module, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PostgresHealthIndicator } from '@slo/database';
import { Dependency, outages, RETRY_AFTER_SECONDS, StoreIndicator } from '@slo/errors';
import { RedisHealthIndicator } from '@slo/queue';
import type { Response } from 'express';

/** A readiness check gets this long per store. */
const CHECK_TIMEOUT_MS = 1000;

type CheckResult = { status: 'up' } | { status: 'down'; message: string };

/** The shape @nestjs/terminus answers (status, info, error, details), plus the names of the stores that are down. */
interface ReadyBody {
  status: 'ok' | 'error';
  /** The stores that answer. */
  info: Partial<Record<Dependency, CheckResult>>;
  /** The stores that do not. */
  error: Partial<Record<Dependency, CheckResult>>;
  details: Record<Dependency, CheckResult>;
  /** The stores that are down (empty when ready). */
  unavailable: Dependency[];
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

/** Runs a store's check and tells the outage tracker what it found. */
async function check(indicator: StoreIndicator): Promise<CheckResult> {
  try {
    await withTimeout(indicator.check(), CHECK_TIMEOUT_MS);
    outages.observe(indicator.dependency, true);
    return { status: 'up' };
  } catch (err) {
    outages.observe(indicator.dependency, false, err);
    return { status: 'down', message: (err as Error)?.message ?? String(err) };
  }
}

@ApiTags('health')
@Controller('health')
class HealthController {
  constructor(
    private readonly postgres: PostgresHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** PostgreSQL and Redis answer; otherwise 503 naming the store(s) that do not, with Retry-After. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadyBody> {
    const [postgres, redis] = await Promise.all([check(this.postgres), check(this.redis)]);
    const details = { postgres, redis };
    const deps = Object.keys(details) as Dependency[];
    const pick = (down: boolean) =>
      Object.fromEntries(deps.filter((d) => (details[d].status === 'down') === down).map((d) => [d, details[d]]));
    const unavailable = deps.filter((d) => details[d].status === 'down');
    const body: ReadyBody = {
      status: unavailable.length ? 'error' : 'ok',
      info: pick(false),
      error: pick(true),
      details,
      unavailable,
    };
    if (unavailable.length) res.status(503).setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
    return body;
  }
}

/**
 * `/health/live` and `/health/ready`. The indicators come from the libraries that own the stores
 * (libs/database, libs/queue); providing them here registers their checks with the outage tracker.
 */
@Module({
  controllers: [HealthController],
  providers: [PostgresHealthIndicator, RedisHealthIndicator],
})
export class HealthModule {}
