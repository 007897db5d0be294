import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { METRICS_REGISTRY } from '@slo/observability';
import { DeliveryShards, keyNodes, onCluster, QueueName, REDIS, type RedisClient } from '@slo/queue';
import { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/**
 * Pipeline metrics. Attempt counts and durations are observed by the process that sends; the
 * rest is read at scrape time from PostgreSQL (events by trigger, deliveries by status), BullMQ
 * (queue depth, oldest waiting job; the delivery queue per shard) and Redis (breakers), so every
 * api or worker instance reports the same totals.
 */
@Injectable()
export class DeliveryMetrics {
  readonly attemptDuration: Histogram<'outcome'>;
  readonly attempts: Counter<'outcome'>;

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @InjectDataSource() db: DataSource,
    shards: DeliveryShards,
    @InjectQueue(QueueName.RetryBatch) retryBatch: Queue,
    @Inject(REDIS) redis: RedisClient,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.attemptDuration = new Histogram({
      name: 'slo_delivery_attempt_duration_seconds',
      help: 'duration of back-channel delivery attempts sent by this process',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.attempts = new Counter({
      name: 'slo_delivery_attempts_total',
      help: 'delivery attempts sent by this process, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    new Gauge({
      name: 'slo_logout_events',
      help: 'logout events recorded (in retention), by trigger',
      labelNames: ['trigger'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows: { trigger: string; n: number }[] = await db.query(
          'SELECT trigger, count(*)::int AS n FROM logout_events GROUP BY trigger',
        );
        for (const r of rows) this.set({ trigger: r.trigger }, r.n);
      },
    });
    new Gauge({
      name: 'slo_deliveries',
      help: 'deliveries (in retention), by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows: { status: string; n: number }[] = await db.query(
          'SELECT status, count(*)::int AS n FROM deliveries GROUP BY status',
        );
        for (const r of rows) this.set({ status: r.status }, r.n);
      },
    });
    // The delivery queue once per shard (label `shard`, "0" with one shard); the retry batch queue is not sharded.
    const queues: { labels: { queue: string; shard?: string }; queue: Queue }[] = [
      ...shards.queues.map((queue, i) => ({ labels: { queue: QueueName.Delivery, shard: String(i) }, queue })),
      { labels: { queue: QueueName.RetryBatch }, queue: retryBatch },
    ];
    new Gauge({
      name: 'slo_queue_jobs',
      help: 'BullMQ jobs by queue, state and (delivery queue) shard',
      labelNames: ['queue', 'state', 'shard'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const { labels, queue } of queues) {
          const { queue: name, ...shard } = labels;
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
          for (const [state, n] of Object.entries(counts)) this.set({ queue: name, state, ...shard }, n);
        }
      },
    });
    new Gauge({
      name: 'slo_queue_oldest_waiting_seconds',
      help: 'age of the oldest job waiting to run, by queue and (delivery queue) shard (0 when none waits)',
      labelNames: ['queue', 'shard'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const { labels, queue } of queues) {
          const [oldest] = await queue.getJobs(['waiting'], -1, -1, true);
          this.set(labels, oldest ? Math.max(0, (Date.now() - oldest.timestamp) / 1000) : 0);
        }
      },
    });
    new Gauge({
      name: 'slo_endpoint_breaker_open',
      help: 'circuit breaker per client endpoint: 1 open or half-open, 0 closed (only endpoints that failed recently)',
      labelNames: ['client_id'],
      registers: [registry],
      async collect() {
        this.reset();
        const prefix = `${config.redis.prefix}:endpoint:`;
        // On a cluster the client id is a hash tag (`{<client_id>}`), and each master holds some of the keys.
        const clientOf = (key: string) =>
          key.slice(prefix.length, -':breaker'.length).slice(...(onCluster(config) ? [1, -1] : [0]));
        for (const node of keyNodes(redis)) {
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*:breaker`, 'COUNT', 500);
            cursor = next;
            for (const key of keys) {
              const openUntil = Number((await node.hget(key, 'open_until')) ?? 0);
              this.set({ client_id: clientOf(key) }, openUntil > 0 ? 1 : 0);
            }
          } while (cursor !== '0');
        }
      },
    });
  }
}
