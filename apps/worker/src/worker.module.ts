import { Module } from '@nestjs/common';
import { DatabaseModule } from '@slo/database';
import { HealthModule, LoggingModule } from '@slo/observability';
import { QueueModule, QueueName, RedisModule } from '@slo/queue';
import { MaintenanceProcessor } from './maintenance/maintenance.processor';
import { MaintenanceScheduler } from './maintenance/maintenance.scheduler';

@Module({
  imports: [
    LoggingModule.forRoot('worker'),
    DatabaseModule.forRoot(),
    RedisModule,
    HealthModule,
    QueueModule.forRoot([QueueName.Maintenance]),
  ],
  providers: [MaintenanceProcessor, MaintenanceScheduler],
})
export class WorkerModule {}
