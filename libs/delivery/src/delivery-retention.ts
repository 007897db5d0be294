import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';

/** Months of partitions kept ready ahead of the current one. */
const MONTHS_AHEAD = 2;
const BATCH = 1000;
/** Held while partitions are dropped, so two workers do not detach the same one. */
const RETENTION_LOCK = "hashtext('delivery-retention')";

/** A month partition of deliveries, its attempts' twin, and the bounds of its ids (lower inclusive, upper exclusive). */
interface MonthPartition {
  deliveries: string;
  attempts: string;
  lower: string;
  upper: string;
}

/**
 * Retention of the delivery record. deliveries and delivery_attempts are partitioned by month of
 * the delivery's UUIDv7 id (migration PartitionedDeliveryHistory): the worker creates the coming
 * months ahead, and retention detaches and drops whole months instead of deleting rows.
 */
@Injectable()
export class DeliveryRetention {
  private readonly logger = new Logger(DeliveryRetention.name);

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Makes the partitions of this month and the next MONTHS_AHEAD that are missing; returns how many tables. */
  async createAhead(): Promise<number> {
    const [{ made }]: { made: number }[] = await this.db.query('SELECT create_delivery_partitions(now(), $1) AS made', [
      MONTHS_AHEAD + 1,
    ]);
    if (made) this.logger.log(`created ${made} delivery partitions`);
    return made;
  }

  /**
   * Retention: drops every month of deliveries (their attempts with them) created wholly more than
   * `days` ago and holding no open delivery (an open one keeps its month until it settles), then
   * deletes the events older than `days` left without deliveries, in small batches. Returns how
   * many deliveries went. Each month goes by DETACH PARTITION … CONCURRENTLY (outside a
   * transaction: the pipeline keeps reading and writing the other months) and DROP TABLE.
   */
  async prune(days: number): Promise<number> {
    const runner = this.db.createQueryRunner();
    let total = 0;
    try {
      const [{ locked }]: { locked: boolean }[] = await runner.query(`SELECT pg_try_advisory_lock(${RETENTION_LOCK}) AS locked`);
      if (!locked) return 0;
      try {
        await this.finishPendingDetaches(runner);
        for (const month of await this.monthsBefore(runner, days)) total += await this.drop(runner, month);
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${RETENTION_LOCK})`);
      }
    } finally {
      await runner.release();
    }
    for (;;) {
      const [, deleted] = (await this.db.query(
        `DELETE FROM logout_events WHERE id IN (
           SELECT e.id FROM logout_events e WHERE e.created_at < now() - make_interval(days => $1)
              AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) LIMIT $2)`,
        [days, BATCH],
      )) as [unknown, number];
      if (deleted < BATCH) break;
    }
    if (total) this.logger.log(`pruned ${total} deliveries created more than ${days} days ago`);
    return total;
  }

  /** The months whose every id is older than `days`, oldest first. */
  private monthsBefore(runner: QueryRunner, days: number): Promise<MonthPartition[]> {
    return runner.query(
      `SELECT c.relname AS deliveries, 'delivery_attempts_' || substr(c.relname, 12) AS attempts, b.lower, b.upper
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
              LATERAL (SELECT substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(''([0-9a-f-]+)''\\)') AS lower,
                              substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([0-9a-f-]+)''\\)') AS upper) b
        WHERE i.inhparent = 'deliveries'::regclass AND NOT i.inhdetachpending
          AND b.upper::uuid <= uuid7_floor(now() - make_interval(days => $1))
        ORDER BY b.upper`,
      [days],
    );
  }

  /** Drops one month unless it holds an open delivery; returns how many deliveries it held. */
  private async drop(runner: QueryRunner, m: MonthPartition): Promise<number> {
    // Served by the month's partial index on open deliveries.
    const open: unknown[] = await runner.query(
      `SELECT 1 FROM deliveries WHERE id >= $1 AND id < $2 AND status IN ('pending', 'delivering', 'retrying') LIMIT 1`,
      [m.lower, m.upper],
    );
    if (open.length) {
      this.logger.warn(`kept ${m.deliveries} past retention: it still holds open deliveries`);
      return 0;
    }
    const [{ n }]: { n: number }[] = await runner.query(`SELECT count(*)::int AS n FROM "${m.deliveries}"`);
    // The attempts first: a month of deliveries cannot leave while attempts reference it.
    await this.detachAndDrop(runner, 'delivery_attempts', m.attempts);
    await this.detachAndDrop(runner, 'deliveries', m.deliveries);
    return n;
  }

  /** A DETACH … CONCURRENTLY interrupted (a worker stopped mid-way) is finished, and its table dropped. */
  private async finishPendingDetaches(runner: QueryRunner): Promise<void> {
    const pending: { parent: string; part: string }[] = await runner.query(
      `SELECT p.relname AS parent, c.relname AS part FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE i.inhdetachpending AND p.relname IN ('deliveries', 'delivery_attempts')
        ORDER BY p.relname = 'deliveries'`,
    );
    for (const { parent, part } of pending) {
      await runner.query(`ALTER TABLE ${parent} DETACH PARTITION "${part}" FINALIZE`);
      await runner.query(`DROP TABLE "${part}"`);
      // A month of deliveries detached by hand may have left its attempts' month behind.
      if (parent === 'deliveries') await this.detachAndDrop(runner, 'delivery_attempts', `delivery_attempts_${part.slice(11)}`);
    }
  }

  private async detachAndDrop(runner: QueryRunner, parent: string, part: string): Promise<void> {
    if (await this.isPartition(runner, part)) {
      await runner.query(`ALTER TABLE ${parent} DETACH PARTITION "${part}" CONCURRENTLY`);
    }
    await runner.query(`DROP TABLE IF EXISTS "${part}"`);
  }

  private async isPartition(runner: QueryRunner, table: string): Promise<boolean> {
    const rows: unknown[] = await runner.query(
      `SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND NOT inhdetachpending`,
      [table],
    );
    return rows.length > 0;
  }
}
