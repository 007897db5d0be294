import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { RetryBatchEntity } from '@slo/database';
import { AppError, DependencyUnavailableError, ErrorCode, outages } from '@slo/errors';
import { isUuid } from '@slo/validation';
import { QueueName, RetryBatchJob } from '@slo/queue';
import { Queue } from 'bullmq';
import { DataSource, QueryFailedError } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { DeliveryService } from './delivery.service';
import { retryWindow } from './time-window';

export const RETRYABLE_STATUSES = ['rejected', 'dead', 'skipped'] as const;
const MAX_BATCH_DELIVERIES = 10_000;
/** Manual attempts one batch has in flight: fresh logouts keep the delivery workers. */
const BATCH_CONCURRENCY = 4;
/** Batches one worker process runs at once, so one tenant's slow batch does not hold another's back. */
export const RETRY_BATCHES_PER_WORKER = 4;

export interface RetryBatchRequest {
  clientId: string | null;
  statuses: string[];
  since: Date;
  until: Date;
}

export function batchView(b: RetryBatchEntity) {
  return {
    id: b.id,
    filter: b.filter,
    state: b.state,
    total: b.total,
    done: b.done,
    succeeded: b.succeeded,
    failed: b.failed,
    requested_by: b.requestedBy,
    created_at: b.createdAt.toISOString(),
    finished_at: b.finishedAt?.toISOString() ?? null,
  };
}

/**
 * Bulk retry: a batch fixes the deliveries matching a filter when it is created (capped in count
 * and time window), then the worker re-sends them as manual attempts, a few at a time, counting
 * progress. At most one active batch per client; a batch can be cancelled between attempts.
 * Batches of different clients run side by side (RETRY_BATCHES_PER_WORKER per worker process).
 */
@Injectable()
export class RetryBatchService {
  private readonly logger = new Logger(RetryBatchService.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectQueue(QueueName.RetryBatch) private readonly queue: Queue,
    private readonly deliveries: DeliveryService,
  ) {}

  async create(requestedBy: string, req: RetryBatchRequest): Promise<RetryBatchEntity> {
    // The batch runs through Redis: refused (503) before anything is written while Redis is known down.
    if (outages.isDown('redis')) throw new DependencyUnavailableError('redis', 'Redis is unreachable');
    retryWindow(req.since, req.until);
    const ids: { id: string }[] = await this.db.query(
      `SELECT id FROM deliveries WHERE status = ANY($1) AND created_at >= $2 AND created_at < $3
          AND ($4::varchar IS NULL OR client_id = $4) ORDER BY id LIMIT $5`,
      [req.statuses, req.since, req.until, req.clientId, MAX_BATCH_DELIVERIES + 1],
    );
    if (ids.length > MAX_BATCH_DELIVERIES) {
      throw AppError.validation('since', `more than ${MAX_BATCH_DELIVERIES} deliveries match; narrow the window or the filter`);
    }
    const batch = this.db.getRepository(RetryBatchEntity).create({
      id: uuidv7(),
      clientKey: req.clientId ?? '',
      filter: {
        client_id: req.clientId,
        statuses: req.statuses,
        since: req.since.toISOString(),
        until: req.until.toISOString(),
      },
      deliveryIds: ids.map((r) => r.id),
      state: 'queued',
      total: ids.length,
      requestedBy,
      finishedAt: null,
    });
    try {
      await this.db.getRepository(RetryBatchEntity).save(batch);
    } catch (err) {
      if (err instanceof QueryFailedError && (err as { code?: string }).code === '23505') {
        throw new AppError(ErrorCode.Conflict, `a retry batch for ${req.clientId ?? 'all clients'} is already active`);
      }
      throw err;
    }
    await this.queue.add(
      RetryBatchJob.Run,
      { batchId: batch.id },
      { jobId: batch.id, removeOnComplete: true, removeOnFail: 100 },
    );
    return this.get(batch.id, null);
  }

  async get(id: string, viewerClientId: string | null): Promise<RetryBatchEntity> {
    const batch = isUuid(id) ? await this.db.getRepository(RetryBatchEntity).findOneBy({ id }) : null;
    if (!batch || (viewerClientId && batch.clientKey !== viewerClientId)) {
      throw new AppError(ErrorCode.NotFound, `retry batch ${id} does not exist`);
    }
    return batch;
  }

  async cancel(id: string, viewerClientId: string | null): Promise<RetryBatchEntity> {
    await this.get(id, viewerClientId);
    await this.db.query(
      `UPDATE retry_batches SET state = 'cancelled', finished_at = now() WHERE id = $1 AND state IN ('queued', 'running')`,
      [id],
    );
    return this.get(id, viewerClientId);
  }

  /** The worker's side: re-sends the batch's deliveries, BATCH_CONCURRENCY at a time, until done or cancelled. */
  async run(id: string): Promise<void> {
    const batch = await this.db.getRepository(RetryBatchEntity).findOneBy({ id });
    if (!batch || (batch.state !== 'queued' && batch.state !== 'running')) return;
    await this.db.query(`UPDATE retry_batches SET state = 'running' WHERE id = $1 AND state = 'queued'`, [id]);
    for (let i = batch.done; i < batch.deliveryIds.length; i += BATCH_CONCURRENCY) {
      const [{ state }]: { state: string }[] = await this.db.query('SELECT state FROM retry_batches WHERE id = $1', [id]);
      if (state !== 'running') return;
      const chunk = batch.deliveryIds.slice(i, i + BATCH_CONCURRENCY);
      const outcomes = await Promise.all(chunk.map((deliveryId) => this.retryOne(deliveryId)));
      const ok = outcomes.filter(Boolean).length;
      await this.db.query(
        `UPDATE retry_batches SET done = done + $2, succeeded = succeeded + $3, failed = failed + $4 WHERE id = $1`,
        [id, chunk.length, ok, chunk.length - ok],
      );
    }
    await this.db.query(`UPDATE retry_batches SET state = 'done', finished_at = now() WHERE id = $1 AND state = 'running'`, [id]);
    this.logger.log({ batchId: id }, 'retry batch finished');
  }

  /** true when the delivery is delivered after this attempt (or already was). */
  private async retryOne(deliveryId: string): Promise<boolean> {
    try {
      // Through the worker's endpoint limit and breaker, like every send; a retry it needs is scheduled by the worker.
      const result = await this.deliveries.runManual(deliveryId, false);
      if (result.kind === 'later') return false;
      if (result.kind === 'finished') return result.status === 'delivered';
      const [row]: { status: string }[] = await this.db.query('SELECT status FROM deliveries WHERE id = $1', [deliveryId]);
      return row?.status === 'delivered';
    } catch (err) {
      this.logger.warn({ err, deliveryId }, 'retry batch attempt failed');
      return false;
    }
  }
}
