import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { MaintenanceJob, QueueName } from '@slo/queue';
import { Queue } from 'bullmq';

/** Registers the periodic maintenance jobs (idempotent: one scheduler per job, whatever the worker count). */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const every: Record<MaintenanceJob, number> = {
      [MaintenanceJob.PurgeExpiredOidcState]: this.config.worker.cleanupIntervalSeconds * 1000,
      [MaintenanceJob.RelayOutbox]: this.config.delivery.relayIntervalSeconds * 1000,
    };
    for (const [name, ms] of Object.entries(every)) {
      await this.queue.upsertJobScheduler(name, { every: ms }, { name, data: {}, opts: { removeOnComplete: 100, removeOnFail: 500 } });
    }
  }
}
