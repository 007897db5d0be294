import { createHash } from 'node:crypto';
import { getSharedConfigToken } from '@nestjs/bullmq';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { Queue, type QueueOptions } from 'bullmq';
import { QueueName } from './queue-names';
import { onCluster } from './redis-options';

/**
 * The delivery queue's shard for an event: the first 4 bytes of the SHA-1 of its id, modulo the
 * number of shards. Stable across processes and restarts; every job of the event (its fan-out, its
 * deliveries' retries, an operator's manual attempt) goes to this one shard.
 */
export function shardOf(eventId: string, shards: number): number {
  if (shards <= 1) return 0;
  return createHash('sha1').update(eventId).digest().readUInt32BE(0) % shards;
}

/**
 * The BullMQ key prefix of shard `shard` of `shards`. With one shard it is the base prefix itself,
 * so the queue (name `delivery`, prefix QUEUE_PREFIX) is exactly the one of earlier versions and
 * jobs in flight survive an upgrade. With more, each shard is its own BullMQ queue of the same name
 * under `<base>-s<i>`: its keys can be hash-tagged on their own (`{<base>-s<i>}` on a Redis
 * Cluster), so the shards land on different cluster nodes.
 */
export function shardPrefix(basePrefix: string, shard: number, shards: number): string {
  return shards === 1 ? basePrefix : `${basePrefix}-s${shard}`;
}

/** The shards a worker process runs jobs from: DELIVERY_SHARDS_CONSUMED, or every shard. */
export function consumedShards(config: AppConfig): number[] {
  return config.delivery.shardsConsumed ?? Array.from({ length: config.delivery.shards }, (_, i) => i);
}

/**
 * The delivery queue's shards (DELIVERY_SHARDS of them), index = shard number, on the connection
 * of `QueueModule.forRoot`. Producers pick the event's shard with `of`; the worker's consumers, the
 * relay, the metrics and the dashboard go over `queues`.
 */
@Injectable()
export class DeliveryShards implements OnApplicationShutdown {
  readonly count: number;
  readonly queues: readonly Queue[];

  constructor(
    @Inject(getSharedConfigToken()) private readonly shared: QueueOptions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.count = config.delivery.shards;
    this.queues = Array.from({ length: this.count }, (_, shard) => {
      const queue = new Queue(QueueName.Delivery, this.options(shard));
      // Connection errors: the shared Redis client reports the outage to the process's tracker.
      queue.on('error', () => undefined);
      return queue;
    });
  }

  /** Connection and key prefix of one shard, for its queue, its workers and its queue events. */
  options(shard: number): QueueOptions {
    const prefix = shardPrefix(this.config.redis.prefix, shard, this.count);
    // On a Redis Cluster each shard's keys share one hash slot of their own (BullMQ needs a queue in one slot).
    return { connection: this.shared.connection, prefix: onCluster(this.config) ? `{${prefix}}` : prefix };
  }

  /** The shard number of an event. */
  shardOf(eventId: string): number {
    return shardOf(eventId, this.count);
  }

  /** The queue of an event's shard. */
  of(eventId: string): Queue {
    return this.queues[this.shardOf(eventId)];
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
