import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { QueueName } from './queue-names';
import { redisOptionsFromUrl } from './redis-options';

/**
 * BullMQ connection (from config, with the configured key prefix) and the queues the app uses.
 * Libraries that only produce jobs register their queue with `QueueModule.register`.
 */
@Module({})
export class QueueModule {
  static register(...queues: QueueName[]): DynamicModule {
    const registered = BullModule.registerQueue(...queues.map((name) => ({ name })));
    return { module: QueueModule, imports: [registered], exports: [registered] };
  }

  static forRoot(queues: QueueName[]): DynamicModule {
    return {
      module: QueueModule,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            connection: redisOptionsFromUrl(config.redis.url),
            prefix: config.redis.prefix,
          }),
        }),
        BullModule.registerQueue(...queues.map((name) => ({ name }))),
      ],
      exports: [BullModule],
    };
  }
}
