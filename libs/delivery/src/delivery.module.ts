import { Module } from '@nestjs/common';
import { KeysModule } from '@slo/keys';
import { LogoutModule } from '@slo/logout';
import { QueueModule, QueueName } from '@slo/queue';
import { DeliveryMetrics } from './delivery-metrics';
import { DeliveryService } from './delivery.service';
import { RetryBatchService } from './retry-batch.service';

/** Sends deliveries. The importing app provides the database, Redis (`RedisModule`) and config. */
@Module({
  imports: [KeysModule, LogoutModule, QueueModule.register(QueueName.RetryBatch, QueueName.Delivery)],
  providers: [DeliveryService, RetryBatchService, DeliveryMetrics],
  exports: [DeliveryService, RetryBatchService, DeliveryMetrics],
})
export class DeliveryModule {}
