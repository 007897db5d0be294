import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import type { ConnectionOptions, Queue } from 'bullmq';
import { QueueName } from './queue-names';
import { bullPrefix } from './redis-options';
import { BULLMQ_CONNECTION } from './redis.module';
import { DeliveryShards } from './shards';

/**
 * Each queue's connection errors (one per reconnect attempt while Redis is down) are handled here,
 * so BullMQ does not print them one by one: the app's shared Redis client reports the outage to
 * the process's outage tracker, which logs it once, and producers see it in their enqueue's result.
 */
function connectionErrorsHandled(queues: QueueName[]): Provider {
  return {
    provide: `slo-queue-errors:${queues.join(',')}`,
    inject: queues.map((name) => getQueueToken(name)),
    useFactory: (...instances: Queue[]) => {
      for (const q of instances) q.on('error', () => undefined);
      return true;
    },
  };
}

/**
 * BullMQ connection (RedisModule's BULLMQ_CONNECTION, with the key prefix of `bullPrefix`) and the
 * queues the app uses. Libraries that only produce jobs register their queue with
 * `QueueModule.register`; the delivery queue's shards come from `QueueModule.deliveryShards`.
 */
@Module({})
export class QueueModule {
  static register(...queues: QueueName[]): DynamicModule {
    const registered = BullModule.registerQueue(...queues.map((name) => ({ name })));
    return { module: QueueModule, imports: [registered], providers: [connectionErrorsHandled(queues)], exports: [registered] };
  }

  /** The delivery queue, one BullMQ queue per shard (DELIVERY_SHARDS), on the connection of `forRoot`. */
  static deliveryShards(): DynamicModule {
    return { module: QueueModule, providers: [DeliveryShards], exports: [DeliveryShards] };
  }

  static forRoot(queues: QueueName[]): DynamicModule {
    return {
      module: QueueModule,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG, BULLMQ_CONNECTION],
          useFactory: (config: AppConfig, connection: ConnectionOptions) => ({ connection, prefix: bullPrefix(config) }),
        }),
        BullModule.registerQueue(...queues.map((name) => ({ name }))),
      ],
      providers: [connectionErrorsHandled(queues)],
      exports: [BullModule],
    };
  }
}
