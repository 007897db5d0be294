import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  DeliveryJob,
  deliveryJobOptions,
  fanoutJobOptions,
  type DeliveryJobData,
  type FanoutJobData,
  type ManualJobData,
  QueueName,
} from '@slo/queue';
import { DependencyUnavailableError, outages, unlessOutage } from '@slo/errors';
import { Queue, QueueEvents } from 'bullmq';
import type { RunResult } from './run-result';

export interface RetryItem {
  deliveryId: string;
  clientId: string;
  /** Attempts made so far: the job is for the next one. */
  attempts: number;
  /** When (epoch ms). */
  at: number;
  /** A send held back (breaker, busy endpoint) rather than a failed attempt: its job id must differ from the running one's. */
  held?: boolean;
}

/** How long an operator's retry waits for the worker's answer. */
const MANUAL_WAIT_MS = 70_000;
/**
 * Longest wait for Redis to take jobs. While Redis is unreachable BullMQ holds commands until it
 * is back; a logout must not wait for that: its work is committed and the relay enqueues it later.
 */
const ENQUEUE_TIMEOUT_MS = 2000;

/** `p`, or a DependencyUnavailableError for Redis when it takes longer than `ms`. */
function redisWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyUnavailableError('redis', `${what}: no answer from Redis within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The one producer of delivery work: fan-out jobs for new events (after their commit), delayed
 * jobs for deliveries that need another attempt, and manual attempts run by a worker. Every path
 * (LogoutService, the outbox relay, recover, an operator's retry, the worker's own retries) goes
 * through here; bulk retry batches have a queue of their own (RetryBatchService). An enqueue that fails is logged, not thrown: PostgreSQL holds the work and
 * the outbox relay enqueues it again. While Redis is known to be down (the process's outage
 * tracker) an enqueue is skipped at once, and one that gets no answer gives up after
 * ENQUEUE_TIMEOUT_MS; the outage is logged once by the tracker, not once per enqueue.
 */
@Injectable()
export class DeliveryQueue implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryQueue.name);
  private events: QueueEvents | null = null;

  constructor(@InjectQueue(QueueName.Delivery) private readonly queue: Queue) {
    // Each operator's retry that waits for its result listens for the queue closing meanwhile.
    queue.setMaxListeners(Math.max(queue.getMaxListeners(), 256));
  }

  async onModuleDestroy(): Promise<void> {
    await this.events?.close();
  }

  /** One fan-out job per event; a second enqueue of the same event collapses into the first. */
  async fanout(eventIds: string[]): Promise<void> {
    if (!eventIds.length) return;
    await this.add(
      eventIds.map((eventId) => ({
        name: DeliveryJob.Fanout,
        data: { eventId } satisfies FanoutJobData,
        opts: fanoutJobOptions(eventId),
      })),
    );
  }

  /** A delayed job per delivery for its next attempt (or its held-back send). */
  async retry(items: RetryItem[]): Promise<void> {
    if (!items.length) return;
    const now = Date.now();
    await this.add(
      items.map((r) => {
        const opts = deliveryJobOptions(r.deliveryId, r.attempts, r.at - now);
        return {
          name: DeliveryJob.Deliver,
          data: { deliveryId: r.deliveryId, clientId: r.clientId, attempts: r.attempts } satisfies DeliveryJobData,
          // A held-back send is re-queued from inside the job that holds the attempt's id.
          opts: r.held ? { ...opts, jobId: `${opts.jobId}-h${now.toString(36)}` } : opts,
        };
      }),
    );
  }

  /**
   * One manual attempt, run by a worker through the same endpoint limit and breaker as scheduled
   * sends; resolves with its result (or rejects when no worker answered in time).
   */
  async manual(deliveryId: string, force: boolean): Promise<RunResult> {
    if (outages.isDown('redis')) throw new DependencyUnavailableError('redis', 'Redis is unreachable');
    if (!this.events) {
      this.events = new QueueEvents(QueueName.Delivery, {
        connection: this.queue.opts.connection,
        prefix: this.queue.opts.prefix,
      });
      this.events.on('error', () => undefined); // connection errors: see the outage tracker
    }
    await redisWithin(this.events.waitUntilReady(), ENQUEUE_TIMEOUT_MS, 'manual attempt');
    const job = await redisWithin(
      this.queue.add(DeliveryJob.Manual, { deliveryId, force } satisfies ManualJobData, {
        priority: 1,
        removeOnComplete: { age: 300 },
        removeOnFail: { age: 3600 },
      }),
      ENQUEUE_TIMEOUT_MS,
      'manual attempt',
    );
    return (await job.waitUntilFinished(this.events, MANUAL_WAIT_MS)) as RunResult;
  }

  private async add(jobs: Parameters<Queue['addBulk']>[0]): Promise<void> {
    // The relay enqueues the work from PostgreSQL once Redis is back.
    if (outages.isDown('redis')) return;
    try {
      await redisWithin(this.queue.addBulk(jobs), ENQUEUE_TIMEOUT_MS, 'enqueue');
    } catch (err) {
      unlessOutage(err, () =>
        this.logger.warn({ err, count: jobs.length }, 'enqueue failed; the outbox relay will enqueue from PostgreSQL'),
      );
    }
  }
}
