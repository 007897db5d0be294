import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import { DeliveryService, type RunResult } from '@slo/delivery';
import { unlessOutage } from '@slo/errors';
import { DeliveryJob, DeliveryJobData, FanoutJobData, ManualJobData, QueueName } from '@slo/queue';
import { Job } from 'bullmq';

/** Delivery-queue jobs (fan-out, deliver, manual) a worker runs at once; a fan-out ends once its deliveries are handed to the sends. */
const DELIVERY_JOB_CONCURRENCY = 16;

/**
 * The delivery queue: a fan-out job per logout event (claim every open delivery of the event and
 * start their sends), a delivery job per further attempt, and operators' manual attempts, whose
 * result the api waits for. Sends, their limits and their records live in DeliveryService.
 */
// Fan-out jobs are short: a dead worker's jobs are noticed within seconds (locks are renewed while a job runs).
@Processor(QueueName.Delivery, { concurrency: DELIVERY_JOB_CONCURRENCY, lockDuration: 10_000, stalledInterval: 5_000 })
export class DeliveryProcessor extends WorkerHost {
  private readonly logger = new Logger(DeliveryProcessor.name);

  constructor(private readonly deliveries: DeliveryService) {
    super();
  }

  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case DeliveryJob.Fanout:
        return { claimed: await this.deliveries.runEvent((job.data as FanoutJobData).eventId) };
      case DeliveryJob.Deliver: {
        const data = job.data as DeliveryJobData;
        return { claimed: await this.deliveries.runRetry(data.deliveryId, data.attempts ?? 0) };
      }
      case DeliveryJob.Manual: {
        const data = job.data as ManualJobData;
        const result: RunResult = await this.deliveries.runManual(data.deliveryId, data.force);
        return result;
      }
      default:
        throw new Error(`no handler for delivery job ${job.name}`);
    }
  }

  /** A run that crashed (database down, a bug): BullMQ retries it; the relay takes over if it gives up. */
  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, err: Error): void {
    // A store that is down fails every job: the tracker logs the outage once.
    unlessOutage(err, () =>
      this.logger.error({ err, job: job?.name, data: job?.data, attemptsMade: job?.attemptsMade }, 'delivery job failed'),
    );
  }

  @OnWorkerEvent('error')
  onError(err: Error): void {
    reportWorkerError(this.logger, err);
  }
}

/**
 * A BullMQ worker's own errors (its connection to Redis, mostly): an outage goes to the
 * process's tracker, which logs it once; anything else is logged here.
 */
export function reportWorkerError(logger: Logger, err: Error): void {
  unlessOutage(err, () => logger.warn({ err }, `queue worker error: ${err.message}`));
}
