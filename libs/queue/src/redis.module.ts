import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import type { ConnectionOptions } from 'bullmq';
import Redis, { Cluster } from 'ioredis';
import { clusterClient, onCluster, redisOptionsFromUrl, sharedRedisClient, type RedisClient } from './redis-options';

/** DI token of the shared ioredis client (health checks, small keys): one server or the cluster. */
export const REDIS = Symbol('REDIS');

/**
 * DI token of BullMQ's connection: options on one Redis (each queue and worker opens its own
 * connections, as before), one shared `Cluster` on a cluster (BullMQ takes a cluster only as an
 * instance; each worker duplicates it for its blocking connection).
 */
export const BULLMQ_CONNECTION = Symbol('BULLMQ_CONNECTION');

/**
 * Closes the shared clients. A global module's shutdown hooks run after every other module's,
 * so the queues and workers are closed by then.
 */
@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(BULLMQ_CONNECTION) private readonly bull: ConnectionOptions,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    const clients = [this.redis, this.bull].filter((c): c is RedisClient => c instanceof Redis || c instanceof Cluster);
    for (const c of clients) await c.quit().catch(() => c.disconnect());
  }
}

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [APP_CONFIG], useFactory: sharedRedisClient },
    {
      provide: BULLMQ_CONNECTION,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ConnectionOptions => {
        if (!onCluster(config)) return redisOptionsFromUrl(config.redis.url);
        // Its connection errors are the shared client's too, which reports them to the outage tracker.
        return clusterClient(config).on('error', () => undefined);
      },
    },
    RedisCloser,
  ],
  exports: [REDIS, BULLMQ_CONNECTION],
})
export class RedisModule {}
