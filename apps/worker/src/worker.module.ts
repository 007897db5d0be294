import { Module } from '@nestjs/common';
import { AppShellModule } from '@slo/app-shell';
import { DatabaseModule } from '@slo/database';
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
    AppShellModule.forRoot('worker', { metrics: true }),
    DatabaseModule.forRoot(),
    RedisModule,
    QueueModule.forRoot([QueueName.Maintenance, QueueName.RetryBatch]),
    LogoutModule,
    DeliveryModule,
    KeysModule,
  ],
  providers: [MaintenanceProcessor, MaintenanceScheduler, DeliveryProcessor, DeliveryWorkerConfig, RetryBatchProcessor],
})
export class WorkerModule {}
