import { Global, Module } from '@nestjs/common';
import { RateLimits } from './rate-limits';

/** The shared rate limits (needs RedisModule and the app config, both global). */
@Global()
@Module({ providers: [RateLimits], exports: [RateLimits] })
export class RateLimitModule {}
