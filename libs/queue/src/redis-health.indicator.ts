import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { outages, StoreIndicator } from '@slo/errors';
import { redisPorts, type RedisClient } from './redis-options';
import { REDIS } from './redis.module';

/**
 * Redis's health check: `PING` on the shared client (on a cluster, to one of its nodes). Provided
 * by the app shell's health module, it registers the check with the process's outage tracker
 * (with the port of REDIS_URL, or of each cluster seed node) and
 * reports the shared client's connection errors there (ioredis would print each one otherwise).
 */
@Injectable()
export class RedisHealthIndicator implements StoreIndicator, OnModuleInit, OnModuleDestroy {
  readonly dependency = 'redis';
  private unregister: (() => void)[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  readonly check = (): Promise<unknown> => this.redis.ping();

  onModuleInit(): void {
    this.unregister = redisPorts(this.config).map((port) => outages.register('redis', this.check, port));
    this.redis.on('error', (err) => outages.reportFailure('redis', err));
  }

  onModuleDestroy(): void {
    for (const unregister of this.unregister) unregister();
  }
}
