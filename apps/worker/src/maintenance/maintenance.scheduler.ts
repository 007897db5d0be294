import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { outages, unlessOutage } from '@slo/errors';
import { MaintenanceJob, QueueName } from '@slo/queue';
import { Queue } from 'bullmq';

/**
 * Registers the periodic maintenance jobs (idempotent: one scheduler per job, whatever the worker
 * count), and checks every minute (more often with a short DELIVERY_SWEEP_INTERVAL_SECONDS) that they still
 * exist, so a Redis that lost its data — restart without persistence, FLUSHALL — gets its
 * schedules back, and with them the outbox relay, without a worker restart.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MaintenanceScheduler.name);
  private timer?: NodeJS.Timeout;
  private refreshing = false;

  constructor(
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.register(false);
    const refreshMs = Math.min(60, this.config.delivery.sweepIntervalSeconds) * 1000;
    this.timer = setInterval(() => void this.refresh(), refreshMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * One refresh at a time, none while Redis is known to be down (BullMQ would hold the commands
   * until it is back); an outage is the tracker's to log, once, not every refresh's.
   */
  private async refresh(): Promise<void> {
    if (this.refreshing || outages.isDown('redis')) return;
    this.refreshing = true;
    try {
      await this.register(true);
    } catch (err) {
      unlessOutage(err, () => this.logger.warn({ err }, 'could not refresh the maintenance schedules'));
    } finally {
      this.refreshing = false;
    }
  }

  private async register(onlyMissing: boolean): Promise<void> {
    const every: Record<MaintenanceJob, number> = {
      [MaintenanceJob.PurgeExpiredOidcState]: this.config.worker.purgeIntervalSeconds * 1000,
      [MaintenanceJob.RelayOutbox]: this.config.delivery.sweepIntervalSeconds * 1000,
      [MaintenanceJob.SweepExpiredSessions]: this.config.logout.expirySweepSeconds * 1000,
      [MaintenanceJob.CheckEndpoints]: this.config.delivery.sweepIntervalSeconds * 1000,
      [MaintenanceJob.PruneDeliveries]: this.config.worker.purgeIntervalSeconds * 1000,
      [MaintenanceJob.CreateDeliveryPartitions]: this.config.worker.purgeIntervalSeconds * 1000,
      [MaintenanceJob.AdvanceKeyRotation]: Math.min(60, this.config.keys.publishDelaySeconds) * 1000,
    };
    for (const [name, ms] of Object.entries(every)) {
      if (onlyMissing && (await this.queue.getJobScheduler(name))) continue;
      if (onlyMissing) this.logger.warn(`maintenance schedule ${name} was missing from Redis; registered again`);
      await this.queue.upsertJobScheduler(
        name,
        { every: ms },
        { name, data: {}, opts: { removeOnComplete: 100, removeOnFail: 500 } },
      );
    }
  }
}
