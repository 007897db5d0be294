import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { AppError } from '@slo/errors';
import { deliveryJobId, DeliveryShards, fanoutJobId } from '@slo/queue';
import { DataSource } from 'typeorm';
import { DeliveryQueue, type RetryItem } from './delivery-queue';

const BATCH = 500;
const LIVE = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'];
/** A job that will still run (an active one may be a dead worker's). */
const QUEUED = ['waiting', 'delayed', 'prioritized', 'waiting-children'];
/** Most deliveries one recover request may reopen (as for a bulk retry batch). */
const MAX_RECOVER_DELIVERIES = 10_000;

interface OpenRow {
  id: string;
  event_id: string;
  client_id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
}

/**
 * The outbox relay: finds deliveries PostgreSQL says are due (or whose claim lapsed: a worker
 * died mid-send) but that have no live job in the queue — a crash between commit and enqueue, a
 * Redis restart without persistence, a FLUSHALL — and enqueues them again: deliveries never
 * attempted through their event's fan-out job (one per event), the others through a delivery job
 * for their next attempt. Job ids are derived from the event and the attempt, so work that is in
 * the queue after all is not duplicated. Every delivery is looked for, and enqueued, on the shard
 * of its event, as every other producer does. Also reopens deliveries for an operator's recover.
 */
@Injectable()
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly shards: DeliveryShards,
    private readonly queue: DeliveryQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One pass; returns how many deliveries were enqueued again (through their event or their own job). */
  async relay(): Promise<number> {
    const graceSeconds = this.config.delivery.sweepIntervalSeconds;
    let requeued = 0;
    let after: { at: Date; id: string } = { at: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
    for (;;) {
      // Served by the partial index on open deliveries (deliveries_open_due_idx): delivered history is never scanned.
      const rows: OpenRow[] = await this.db.query(
        `SELECT id, event_id, client_id, status, attempts, next_attempt_at FROM deliveries
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
      requeued += await this.requeue(rows);
      if (rows.length < BATCH) break;
    }
    if (requeued) this.logger.warn({ requeued }, 're-enqueued deliveries missing from the queue');
    return requeued;
  }

  /**
   * Recover: every delivery to `clientId` created in [since, until) that did not succeed (rejected,
   * dead, skipped) is opened again and queued; returns how many. Capped like a bulk retry batch.
   */
  async reopenForClient(clientId: string, since: Date, until: Date): Promise<number> {
    const rows = await this.db.transaction(async (tx) => {
      const [{ n }]: { n: number }[] = await tx.query(
        `SELECT count(*)::int AS n FROM deliveries
          WHERE client_id = $1 AND created_at >= $2 AND created_at < $3 AND status IN ('rejected', 'dead', 'skipped')`,
        [clientId, since, until],
      );
      if (n > MAX_RECOVER_DELIVERIES) {
        throw AppError.validation('since', `${n} deliveries match, more than ${MAX_RECOVER_DELIVERIES}; narrow the window`);
      }
      const [updated] = (await tx.query(
        `UPDATE deliveries SET status = 'pending', next_attempt_at = now(), lease_until = NULL, updated_at = now()
          WHERE client_id = $1 AND created_at >= $2 AND created_at < $3 AND status IN ('rejected', 'dead', 'skipped')
          RETURNING id, event_id, client_id, attempts`,
        [clientId, since, until],
      )) as [{ id: string; event_id: string; client_id: string; attempts: number }[], number];
      return updated;
    });
    await this.queue.retry(rows.map((r) => retryItem(r)));
    if (rows.length) this.logger.log({ clientId, count: rows.length }, 'reopened deliveries for recovery');
    return rows.length;
  }

  /**
   * Never-attempted deliveries go back through their event's fan-out job; the others, and claims
   * that lapsed (their worker died), get a delivery job for their next attempt. A fan-out job that
   * is still active while its event's deliveries sit unclaimed past the grace period may belong to
   * a worker that died (BullMQ notices the stall only later): those deliveries get delivery jobs
   * too. Claims are atomic, so a delivery reached both ways is still sent once.
   */
  private async requeue(rows: OpenRow[]): Promise<number> {
    const viaEvent = (r: OpenRow) => r.attempts === 0 && r.status === 'pending';
    const plans = await Promise.all(
      rows.map(async (r): Promise<'live' | 'event' | 'own'> => {
        const own = deliveryJobId(r.id, r.attempts);
        const jobs = this.shards.of(r.event_id);
        const [event, delivery] = await Promise.all([
          viaEvent(r) ? jobs.getJobState(fanoutJobId(r.event_id)) : 'unknown',
          jobs.getJobState(own),
        ]);
        if (LIVE.includes(delivery) || QUEUED.includes(event)) return 'live';
        // A finished or failed job of the same id would make the new enqueue a no-op; so would a job
        // key left in no list (seen after a wipe of Redis raced with a job move): remove those first.
        if (['failed', 'completed', 'unknown'].includes(delivery)) await jobs.remove(own).catch(() => undefined);
        if (viaEvent(r) && ['failed', 'completed', 'unknown'].includes(event)) {
          await jobs.remove(fanoutJobId(r.event_id)).catch(() => undefined);
        }
        return viaEvent(r) && event !== 'active' ? 'event' : 'own';
      }),
    );
    const missing = rows.filter((_, i) => plans[i] !== 'live');
    await this.queue.fanout([...new Set(rows.filter((_, i) => plans[i] === 'event').map((r) => r.event_id))]);
    await this.queue.retry(rows.filter((_, i) => plans[i] === 'own').map((r) => retryItem(r)));
    return missing.length;
  }
}

/** A delivery job for the next attempt of a delivery, now. */
function retryItem(r: { id: string; event_id: string; client_id: string; attempts: number }): RetryItem {
  return { deliveryId: r.id, eventId: r.event_id, clientId: r.client_id, attempts: r.attempts, at: Date.now() };
}
