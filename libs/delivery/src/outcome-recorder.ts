import { Logger } from '@nestjs/common';
import type { AttemptOutcome, AttemptTrigger, DeliveryStatus } from '@slo/database';
import { unlessOutage } from '@slo/errors';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** One attempt's outcome: its attempts row and the delivery's new state. */
export interface AttemptRecord {
  attemptId: string;
  deliveryId: string;
  number: number;
  trigger: AttemptTrigger;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorClass: string | null;
  outcome: AttemptOutcome;
  excerpt: string | null;
  status: DeliveryStatus;
  nextAt: Date | null;
}

/** A claim given back without an attempt (held back by the breaker or a busy endpoint): due again at `nextAt`. */
export interface ReleaseRecord {
  deliveryId: string;
  nextAt: Date;
}

export interface RecorderSettings {
  /** A flush is written once this many records wait… */
  maxRows: number;
  /** …or this long after the first of them arrived, whichever comes first. */
  maxDelayMs: number;
}

/** Channel of the notification sent when deliveries of an event were recorded (payload: the event id). */
export const DELIVERY_RECORDED_CHANNEL = 'slo_delivery_recorded';

// One statement per flush: every attempt row, every delivery's new state, and one notification
// per event whose deliveries changed (delivered when the statement commits). A delivery whose
// attempt was already recorded (a claim that lapsed and was taken over) is left alone.
const RECORD_SQL = `
  WITH r AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::varchar[], $5::timestamptz[], $6::int[], $7::int[],
                         $8::varchar[], $9::varchar[], $10::text[], $11::varchar[], $12::timestamptz[])
      AS r(attempt_id, delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, outcome, excerpt, status, next_at)
  ), ins AS (
    INSERT INTO delivery_attempts
      (id, delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, outcome, response_excerpt)
    SELECT attempt_id, delivery_id, number, trigger, started_at, duration_ms, status_code, error_class, outcome, excerpt FROM r
    ON CONFLICT (delivery_id, number) DO NOTHING
  ), upd AS (
    UPDATE deliveries d
       SET status = r.status, attempts = r.number, next_attempt_at = r.next_at, lease_until = NULL,
           last_attempt_at = r.started_at, last_status_code = r.status_code, last_error = r.error_class,
           delivered_at = CASE WHEN r.status = 'delivered' THEN now() ELSE d.delivered_at END, updated_at = now()
      FROM r
     WHERE d.id = r.delivery_id AND d.attempts < r.number
    RETURNING d.event_id
  )
  SELECT count(pg_notify('${DELIVERY_RECORDED_CHANNEL}', e))::int AS n FROM (SELECT DISTINCT event_id::text AS e FROM upd) x`;

const RELEASE_SQL = `
  WITH upd AS (
    UPDATE deliveries d
       SET status = CASE WHEN d.attempts = 0 THEN 'pending' ELSE 'retrying' END, lease_until = NULL,
           next_attempt_at = r.next_at, updated_at = now()
      FROM unnest($1::uuid[], $2::timestamptz[]) AS r(id, next_at)
     WHERE d.id = r.id AND d.status = 'delivering'
    RETURNING d.event_id
  )
  SELECT count(pg_notify('${DELIVERY_RECORDED_CHANNEL}', e))::int AS n FROM (SELECT DISTINCT event_id::text AS e FROM upd) x`;

interface Entry<T> {
  row: T;
  done: () => void;
  fail: (err: unknown) => void;
}

/** Flushes in flight at once: the next batch fills while one is written. */
const MAX_FLUSHES = 2;
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5_000;

/**
 * Micro-batching writer of delivery outcomes, shared by every send of a worker process: records
 * wait at most `maxDelayMs` (or until `maxRows` are waiting) and are then written by one statement
 * (a multi-row insert of attempts and one update of deliveries). Each record's promise resolves
 * when its flush committed, so a healthy delivery is recorded as soon as it completes, whatever
 * its siblings do. A flush that fails for a connection problem is retried with backoff (the
 * claims' leases cover a worker that dies meanwhile); one refused for its data is retried row by
 * row, so one bad row cannot hold the others back.
 */
export class OutcomeRecorder {
  private readonly logger = new Logger(OutcomeRecorder.name);
  private attempts: Entry<AttemptRecord>[] = [];
  private releases: Entry<ReleaseRecord>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing = 0;
  private retryMs = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly db: DataSource,
    private readonly s: RecorderSettings,
  ) {}

  /** `urgent`: written without waiting for the batch to fill (someone waits for this one). */
  record(row: AttemptRecord, urgent = false): Promise<void> {
    return this.add(this.attempts, row, urgent);
  }

  release(row: ReleaseRecord): Promise<void> {
    return this.add(this.releases, row);
  }

  /** Resolves once everything handed in so far is written (for shutdown). */
  async drain(): Promise<void> {
    while (this.attempts.length || this.releases.length || this.flushing) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      if (this.flushing < MAX_FLUSHES && (this.attempts.length || this.releases.length)) void this.flush();
      await new Promise<void>((r) => this.idle.push(r));
    }
  }

  private add<T>(queue: Entry<T>[], row: T, urgent = false): Promise<void> {
    return new Promise<void>((done, fail) => {
      queue.push({ row, done, fail });
      if (urgent || this.attempts.length + this.releases.length >= this.s.maxRows) this.flushSoon(0);
      else this.flushSoon(this.s.maxDelayMs);
    });
  }

  private flushSoon(delayMs: number): void {
    if (this.flushing >= MAX_FLUSHES) return; // the running flush picks the rows up when it ends
    if (delayMs === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.flush();
      return;
    }
    if (!this.timer) this.timer = setTimeout(() => ((this.timer = null), void this.flush()), delayMs);
  }

  private async flush(): Promise<void> {
    const attempts = this.attempts.splice(0, this.s.maxRows);
    const releases = this.releases.splice(0, Math.max(this.s.maxRows - attempts.length, 0));
    if (!attempts.length && !releases.length) return this.settled();
    this.flushing += 1;
    try {
      await this.write(attempts, releases);
      this.retryMs = 0;
    } catch (err) {
      if (isDataError(err)) {
        await this.writeOneByOne(attempts, releases);
      } else {
        // The database is unreachable or failing: keep the rows, try again later.
        this.retryMs = Math.min(Math.max(this.retryMs * 2, RETRY_MIN_MS), RETRY_MAX_MS);
        unlessOutage(err, () =>
          this.logger.warn(
            { err, rows: attempts.length + releases.length, retryInMs: this.retryMs },
            'recording deliveries failed',
          ),
        );
        this.attempts.unshift(...attempts);
        this.releases.unshift(...releases);
        await new Promise((r) => setTimeout(r, this.retryMs));
      }
    } finally {
      this.flushing -= 1;
    }
    if (this.attempts.length + this.releases.length >= this.s.maxRows || this.retryMs) this.flushSoon(0);
    else if (this.attempts.length || this.releases.length) this.flushSoon(this.s.maxDelayMs);
    this.settled();
  }

  private settled(): void {
    for (const r of this.idle.splice(0)) r();
  }

  private async write(attempts: Entry<AttemptRecord>[], releases: Entry<ReleaseRecord>[]): Promise<void> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    if (attempts.length) {
      const rows = attempts.map((a) => a.row);
      await pool.query({
        name: 'delivery_record_batch',
        text: RECORD_SQL,
        values: [
          rows.map((r) => r.attemptId),
          rows.map((r) => r.deliveryId),
          rows.map((r) => r.number),
          rows.map((r) => r.trigger),
          rows.map((r) => r.startedAt),
          rows.map((r) => r.durationMs),
          rows.map((r) => r.statusCode),
          rows.map((r) => r.errorClass),
          rows.map((r) => r.outcome),
          rows.map((r) => r.excerpt),
          rows.map((r) => r.status),
          rows.map((r) => r.nextAt),
        ],
      });
      for (const a of attempts) a.done();
    }
    if (releases.length) {
      await pool.query({
        name: 'delivery_release_batch',
        text: RELEASE_SQL,
        values: [releases.map((r) => r.row.deliveryId), releases.map((r) => r.row.nextAt)],
      });
      for (const r of releases) r.done();
    }
  }

  private async writeOneByOne(attempts: Entry<AttemptRecord>[], releases: Entry<ReleaseRecord>[]): Promise<void> {
    for (const a of attempts) {
      await this.write([a], []).catch((err: unknown) => {
        this.logger.error({ err, deliveryId: a.row.deliveryId }, 'could not record a delivery attempt');
        a.fail(err);
      });
    }
    for (const r of releases) {
      await this.write([], [r]).catch((err: unknown) => r.fail(err));
    }
  }
}

/** PostgreSQL refused the rows themselves (SQLSTATE class 22 data exception or 23 integrity), not the connection. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
