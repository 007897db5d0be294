import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { DeliveryJob, deliveryJobOptions, QueueName } from '@slo/queue';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';

const BATCH = 500;

/**
 * The outbox relay: finds deliveries PostgreSQL says are due (or whose sender died mid-send) but
 * that have no live job in the queue — a crash between commit and enqueue, a Redis restart without
 * persistence, a FLUSHALL — and enqueues them again. Job ids are delivery ids, so a delivery that
 * is in the queue after all is not duplicated.
 */
@Injectable()
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QueueName.Delivery) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One pass; returns how many deliveries were enqueued again. */
  async relay(): Promise<number> {
    const graceSeconds = this.config.delivery.relayIntervalSeconds;
    let requeued = 0;
    let after: { at: Date; id: string } = { at: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
    for (;;) {
      // Served by the partial index on open deliveries (deliveries_open_due_idx): delivered history is never scanned.
      const rows: { id: string; client_id: string; next_attempt_at: Date }[] = await this.db.query(
        `SELECT id, client_id, next_attempt_at FROM deliveries
          WHERE status IN ('pending', 'delivering', 'retrying')
            AND next_attempt_at < now() - make_interval(secs => $3)
            AND (status <> 'delivering' OR lease_until < now())
            AND (next_attempt_at, id) > ($1::timestamptz, $2::uuid)
          ORDER BY next_attempt_at, id LIMIT $4`,
        [after.at, after.id, graceSeconds, BATCH],
      );
      if (!rows.length) break;
      const last = rows[rows.length - 1];
      after = { at: last.next_attempt_at, id: last.id };
      const states = await Promise.all(rows.map((r) => this.queue.getJobState(r.id)));
      const missing = rows.filter(
        (_, i) => !['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'].includes(states[i]),
      );
      for (const [i, r] of rows.entries()) {
        if (states[i] === 'failed' || states[i] === 'completed') await this.queue.remove(r.id);
      }
      if (missing.length) {
        await this.queue.addBulk(
          missing.map((r) => ({
            name: DeliveryJob.Deliver,
            data: { deliveryId: r.id, clientId: r.client_id },
            opts: deliveryJobOptions(r.id),
          })),
        );
        requeued += missing.length;
      }
      if (rows.length < BATCH) break;
    }
    if (requeued) this.logger.warn({ requeued }, 're-enqueued deliveries missing from the queue');
    return requeued;
  }
}
