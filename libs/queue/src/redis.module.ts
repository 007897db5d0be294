import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import Redis from 'ioredis';
import { redisOptionsFromUrl } from './redis-options';

/** DI token of the shared ioredis client (health checks, small keys). */
export const REDIS = Symbol('REDIS');

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new Redis({ ...redisOptionsFromUrl(config.redis.url), lazyConnect: false, enableOfflineQueue: false }),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
