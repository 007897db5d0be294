import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  DeliveryJob,
  deliveryJobOptions,
  DeliveryShards,
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
  /** The delivery's event: its job goes to the event's shard. */
  eventId: string;
  clientId: string;
  /** Attempts made so far: the job is for the next one. */
  attempts: number;
  /** When (epoch ms). */
  at: number;
  /** A send held back (breaker, busy endpoint) rather than a failed attempt: its job id must differ from the running one's. */
  held?: boolean;
}

type BulkJob = Parameters<Queue['addBulk']>[0][number];

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
 * through here; bulk retry batches have a queue of their own (RetryBatchService). Every job goes
 * to the shard of its event (DeliveryShards). An enqueue that fails is logged, not thrown: PostgreSQL holds the work and
 * the outbox relay enqueues it again. While Redis is known to be down (the process's outage
 * tracker) an enqueue is skipped at once, and one that gets no answer gives up after
 * ENQUEUE_TIMEOUT_MS; the outage is logged once by the tracker, not once per enqueue.
 */
@Injectable()
export class DeliveryQueue implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryQueue.name);
  /** Each shard's listener for finished manual attempts, opened on the shard's first one. */
  private readonly events = new Map<number, QueueEvents>();

  constructor(private readonly shards: DeliveryShards) {
    // Each operator's retry that waits for its result listens for the queue closing meanwhile.
    for (const queue of shards.queues) queue.setMaxListeners(Math.max(queue.getMaxListeners(), 256));
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.events.values()].map((e) => e.close()));
  }

  /** One fan-out job per event; a second enqueue of the same event collapses into the first. */
  async fanout(eventIds: string[]): Promise<void> {
    if (!eventIds.length) return;
    await this.add(
      eventIds.map((eventId) => ({
        eventId,
        job: { name: DeliveryJob.Fanout, data: { eventId } satisfies FanoutJobData, opts: fanoutJobOptions(eventId) },
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
          eventId: r.eventId,
          job: {
            name: DeliveryJob.Deliver,
            data: { deliveryId: r.deliveryId, clientId: r.clientId, attempts: r.attempts } satisfies DeliveryJobData,
            // A held-back send is re-queued from inside the job that holds the attempt's id.
            opts: r.held ? { ...opts, jobId: `${opts.jobId}-h${now.toString(36)}` } : opts,
          },
        };
      }),
    );
  }

  /**
   * One manual attempt, run by a worker through the same endpoint limit and breaker as scheduled
   * sends; resolves with its result (or rejects when no worker answered in time).
   */
  async manual(delivery: { id: string; eventId: string }, force: boolean): Promise<RunResult> {
    if (outages.isDown('redis')) throw new DependencyUnavailableError('redis', 'Redis is unreachable');
    const shard = this.shards.shardOf(delivery.eventId);
    let events = this.events.get(shard);
    if (!events) {
      events = new QueueEvents(QueueName.Delivery, this.shards.options(shard));
      events.on('error', () => undefined); // connection errors: see the outage tracker
      this.events.set(shard, events);
    }
    await redisWithin(events.waitUntilReady(), ENQUEUE_TIMEOUT_MS, 'manual attempt');
    const deliveryId = delivery.id;
    const job = await redisWithin(
      this.shards.queues[shard].add(DeliveryJob.Manual, { deliveryId, force } satisfies ManualJobData, {
        priority: 1,
        removeOnComplete: { age: 300 },
        removeOnFail: { age: 3600 },
      }),
      ENQUEUE_TIMEOUT_MS,
      'manual attempt',
    );
    return (await job.waitUntilFinished(events, MANUAL_WAIT_MS)) as RunResult;
  }

  /** Each job to the shard of its event: one bulk add per shard, side by side. */
  private async add(jobs: { eventId: string; job: BulkJob }[]): Promise<void> {
    // The relay enqueues the work from PostgreSQL once Redis is back.
    if (outages.isDown('redis')) return;
    const byShard = new Map<number, BulkJob[]>();
    for (const { eventId, job } of jobs) {
      const shard = this.shards.shardOf(eventId);
      const bulk = byShard.get(shard);
      if (bulk) bulk.push(job);
      else byShard.set(shard, [job]);
    }
    try {
      await redisWithin(
        Promise.all([...byShard].map(([shard, bulk]) => this.shards.queues[shard].addBulk(bulk))),
        ENQUEUE_TIMEOUT_MS,
        'enqueue',
      );
    } catch (err) {
      unlessOutage(err, () =>
        this.logger.warn({ err, count: jobs.length }, 'enqueue failed; the outbox relay will enqueue from PostgreSQL'),
      );
    }
  }
}
