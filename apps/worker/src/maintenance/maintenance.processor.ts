import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { DeliveryRetention, EndpointStateService, OutboxRelay } from '@slo/delivery';
import { SessionExpirySweep } from '@slo/logout';
import { SigningKeysService } from '@slo/keys';
import { MaintenanceJob, QueueName } from '@slo/queue';
import { purgeExpiredOidcState } from '@slo/sessions';
import { Job } from 'bullmq';
import { reportWorkerError } from '../delivery/delivery.processor';
import { DataSource } from 'typeorm';

/** Housekeeping jobs. Each job name has exactly one handler (the record type makes a missing one a compile error). */
@Processor(QueueName.Maintenance, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost {
  private readonly logger = new Logger(MaintenanceProcessor.name);
  private readonly handlers: Record<MaintenanceJob, () => Promise<unknown>> = {
    [MaintenanceJob.PurgeExpiredOidcState]: async () => {
      const deleted = await purgeExpiredOidcState(this.db);
      if (deleted) this.logger.log(`purged ${deleted} expired provider records`);
      return { deleted };
    },
    [MaintenanceJob.RelayOutbox]: async () => ({ requeued: await this.relay.relay() }),
    [MaintenanceJob.SweepExpiredSessions]: async () => ({ ended: await this.expiry.sweep() }),
    [MaintenanceJob.CheckEndpoints]: async () => ({
      disabled: await this.endpoints.disableFailingEndpoints(this.config.endpoints.autoDisableAfterSeconds),
    }),
    [MaintenanceJob.AdvanceKeyRotation]: async () => ({
      changed: await this.keys.promote(this.config.keys.publishDelaySeconds, this.config.keys.retiredGraceSeconds),
    }),
    [MaintenanceJob.PruneDeliveries]: async () => ({
      pruned: await this.retention.prune(this.config.delivery.retentionDays),
    }),
    [MaintenanceJob.CreateDeliveryPartitions]: async () => ({ created: await this.retention.createAhead() }),
  };

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly relay: OutboxRelay,
    private readonly expiry: SessionExpirySweep,
    private readonly endpoints: EndpointStateService,
    private readonly retention: DeliveryRetention,
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    const handler = this.handlers[job.name as MaintenanceJob];
    if (!handler) throw new Error(`no handler for maintenance job ${job.name}`);
    return handler();
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    reportWorkerError(this.logger, err);
  }
}
