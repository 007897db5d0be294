import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { DeliveryService, type RunResult } from '@slo/delivery';
import { unlessOutage } from '@slo/errors';
import {
  consumedShards,
  DeliveryJob,
  DeliveryJobData,
  DeliveryShards,
  FanoutJobData,
  ManualJobData,
  QueueName,
} from '@slo/queue';
import { Job, Worker } from 'bullmq';

/**
 * Delivery-queue jobs (fan-out, deliver, manual) a worker runs at once from each shard it consumes;
 * a fan-out ends once its deliveries are handed to the sends (whose number DELIVERY_CONCURRENCY caps).
 */
const DELIVERY_JOB_CONCURRENCY = 16;
// Fan-out jobs are short: a dead worker's jobs are noticed within seconds (locks are renewed while a job runs).
const LOCK_DURATION_MS = 10_000;
const STALLED_INTERVAL_MS = 5_000;

/**
 * The delivery queue: a fan-out job per logout event (claim every open delivery of the event and
 * start their sends), a delivery job per further attempt, and operators' manual attempts, whose
 * result the api waits for. Sends, their limits and their records live in DeliveryService.
 * One BullMQ worker per shard this process consumes (DELIVERY_SHARDS_CONSUMED, or every shard),
 * all running the same handler; started with the module, closed at application shutdown.
 */
@Injectable()
export class DeliveryProcessor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryProcessor.name);
  private workers: Worker[] = [];

  constructor(
    private readonly deliveries: DeliveryService,
    private readonly shards: DeliveryShards,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.workers = consumedShards(this.config).map((shard) => {
      const worker = new Worker(QueueName.Delivery, (job) => this.process(job), {
        ...this.shards.options(shard),
        concurrency: DELIVERY_JOB_CONCURRENCY,
        lockDuration: LOCK_DURATION_MS,
        stalledInterval: STALLED_INTERVAL_MS,
      });
      worker.on('failed', (job, err) => this.onFailed(job, err));
      worker.on('error', (err) => reportWorkerError(this.logger, err));
      return worker;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
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
  private onFailed(job: Job | undefined, err: Error): void {
    // A store that is down fails every job: the tracker logs the outage once.
    unlessOutage(err, () =>
      this.logger.error({ err, job: job?.name, data: job?.data, attemptsMade: job?.attemptsMade }, 'delivery job failed'),
    );
  }
}

/**
 * A BullMQ worker's own errors (its connection to Redis, mostly): an outage goes to the
 * process's tracker, which logs it once; anything else is logged here.
 */
export function reportWorkerError(logger: Logger, err: Error): void {
  unlessOutage(err, () => logger.warn({ err }, `queue worker error: ${err.message}`));
}
