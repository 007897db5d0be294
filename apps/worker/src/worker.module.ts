import { Module } from '@nestjs/common';
import { DatabaseModule } from '@slo/database';
import { HealthModule, LoggingModule, MetricsModule } from '@slo/observability';
import { DeliveryModule } from '@slo/delivery';
import { KeysModule } from '@slo/keys';
import { LogoutModule } from '@slo/logout';
import { QueueModule, QueueName, RedisModule } from '@slo/queue';
import { DeliveryWorkerConfig } from './delivery/delivery-worker.config';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { RetryBatchProcessor } from './delivery/retry-batch.processor';
import { MaintenanceProcessor } from './maintenance/maintenance.processor';
import { MaintenanceScheduler } from './maintenance/maintenance.scheduler';

@Module({
  imports: [
    LoggingModule.forRoot('worker'),
    DatabaseModule.forRoot(),
    RedisModule,
    HealthModule,
    MetricsModule,
    QueueModule.forRoot([QueueName.Maintenance, QueueName.Delivery, QueueName.RetryBatch]),
    LogoutModule,
    DeliveryModule,
    KeysModule,
  ],
  providers: [MaintenanceProcessor, MaintenanceScheduler, DeliveryProcessor, DeliveryWorkerConfig, RetryBatchProcessor],
})
export class WorkerModule {}
