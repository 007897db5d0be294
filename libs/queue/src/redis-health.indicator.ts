import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { outages, StoreIndicator } from '@slo/errors';
import type Redis from 'ioredis';
import { REDIS } from './redis.module';

/**
 * Redis's health check: `PING` on the shared client. Provided by the app shell's health module,
 * it registers the check with the process's outage tracker (with the port of REDIS_URL) and
 * reports the shared client's connection errors there (ioredis would print each one otherwise).
 */
@Injectable()
export class RedisHealthIndicator implements StoreIndicator, OnModuleInit, OnModuleDestroy {
  readonly dependency = 'redis';
  private unregister?: () => void;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  readonly check = (): Promise<unknown> => this.redis.ping();

  onModuleInit(): void {
    this.unregister = outages.register('redis', this.check, Number(new URL(this.config.redis.url).port || 6379));
    this.redis.on('error', (err) => outages.reportFailure('redis', err));
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
