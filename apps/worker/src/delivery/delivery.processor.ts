import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { DeliveryService } from '@slo/delivery';
import { DeliveryJob, DeliveryJobData, QueueName } from '@slo/queue';
import { DelayedError, Job } from 'bullmq';

/**
 * Delivery jobs: one run of DeliveryService per job. A retry, or a send held back by the circuit
 * breaker or the endpoint limit, moves the same job (same id) back to the delayed set.
 */
@Processor(QueueName.Delivery, { concurrency: 1 })
export class DeliveryProcessor extends WorkerHost {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(private readonly deliveries: DeliveryService) {
    super();
  }

  async process(job: Job<DeliveryJobData>, token?: string): Promise<unknown> {
    if (job.name !== DeliveryJob.Deliver) throw new Error(`no handler for delivery job ${job.name}`);
    const result = await this.deliveries.run(job.data.deliveryId, job.data.clientId);
    if (result.kind !== 'later') return { status: result.kind === 'finished' ? result.status : 'refused' };
    await job.moveToDelayed(result.at, token);
    throw new DelayedError();
  }

  /** A run that crashed (database down, a bug): BullMQ retries it; the relay takes over if it gives up. */
  @OnWorkerEvent('failed')
  onFailed(job: Job<DeliveryJobData> | undefined, err: Error): void {
    this.logger.error({ err, deliveryId: job?.data.deliveryId, attemptsMade: job?.attemptsMade }, 'delivery job failed');
  }
}
