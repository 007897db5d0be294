import { Controller, Get, Inject, Injectable, Module, OnModuleDestroy, OnModuleInit, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { REDIS } from '@slo/queue';
import type { Response } from 'express';
import type Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { Dependency, outages, RETRY_AFTER_SECONDS } from './outage';

/** A readiness check gets this long per store. */
const CHECK_TIMEOUT_MS = 1000;

type CheckResult = { status: 'up' } | { status: 'down'; message: string };

/** The shape @nestjs/terminus answers (status, info, error, details), plus the names of the stores that are down. */
export interface ReadyBody {
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

/**
 * The app's stores and how to check them: used by `/health/ready`, and registered with the
 * process's outage tracker, which probes a store it saw fail until it answers again.
 */
@Injectable()
export class StoreChecks implements OnModuleInit, OnModuleDestroy {
  private unregister: (() => void)[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  readonly checks: Record<Dependency, () => Promise<unknown>> = {
    postgres: () => this.db.query('SELECT 1'),
    redis: () => this.redis.ping(),
  };

  onModuleInit(): void {
    const port = (url: string, fallback: number) => Number(new URL(url).port || fallback);
    this.unregister = [
      outages.register('postgres', this.checks.postgres, port(this.config.database.url, 5432)),
      outages.register('redis', this.checks.redis, port(this.config.redis.url, 6379)),
    ];
    // The shared client reports its own connection errors (ioredis would print each one otherwise).
    this.redis.on('error', (err) => outages.reportFailure('redis', err));
  }

  onModuleDestroy(): void {
    for (const u of this.unregister) u();
  }

  async check(dep: Dependency): Promise<CheckResult> {
    try {
      await withTimeout(this.checks[dep](), CHECK_TIMEOUT_MS);
      outages.observe(dep, true);
      return { status: 'up' };
    } catch (err) {
      outages.observe(dep, false, err);
      return { status: 'down', message: (err as Error)?.message ?? String(err) };
    }
  }
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly stores: StoreChecks) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** PostgreSQL and Redis answer; otherwise 503 naming the store(s) that do not, with Retry-After. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadyBody> {
    const [postgres, redis] = await Promise.all([this.stores.check('postgres'), this.stores.check('redis')]);
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

@Module({
  controllers: [HealthController],
  providers: [StoreChecks],
  exports: [StoreChecks],
})
export class HealthModule {}
