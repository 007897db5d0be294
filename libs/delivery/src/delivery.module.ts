import { Module } from '@nestjs/common';
import { KeysModule } from '@slo/keys';
import { QueueModule, QueueName } from '@slo/queue';
import { DeliveryMetrics } from './delivery-metrics';
import { DeliveryQueries } from './delivery-queries.service';
import { DeliveryQueue } from './delivery-queue';
import { DeliveryRetention } from './delivery-retention';
import { DeliveryWaiter } from './delivery-waiter';
import { DeliveryService } from './delivery.service';
import { EndpointStateService } from './endpoint-state.service';
import { OutboxRelay } from './outbox-relay.service';
import { RetryBatchService } from './retry-batch.service';

const SHARDS = QueueModule.deliveryShards();

/**
 * What producers need (LogoutService in identity, api and the worker): the delivery producer (and
 * the delivery queue's shards) and the notification-driven wait for deliveries. The importing app
 * provides the database, config and `QueueModule.forRoot`.
 */
@Module({
  imports: [SHARDS],
  providers: [DeliveryQueue, DeliveryWaiter],
  exports: [SHARDS, DeliveryQueue, DeliveryWaiter],
})
export class DeliveryQueueModule {}

const DELIVERY_PROVIDERS = [
  DeliveryService,
  RetryBatchService,
  DeliveryMetrics,
  DeliveryQueries,
  EndpointStateService,
  OutboxRelay,
  DeliveryRetention,
];

/**
 * The delivery record and its operations (api and worker): read side, endpoint state, recover and
 * the relay, bulk retries, retention, metrics; and the sending engine, which only the worker starts.
 * The importing app also provides Redis (`RedisModule`).
 */
@Module({
  imports: [KeysModule, DeliveryQueueModule, QueueModule.register(QueueName.RetryBatch)],
  providers: DELIVERY_PROVIDERS,
  exports: [DeliveryQueueModule, ...DELIVERY_PROVIDERS],
})
export class DeliveryModule {}
