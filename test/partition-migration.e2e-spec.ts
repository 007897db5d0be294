import { dataSourceOptions } from '@slo/database';
import { createTestDatabase, sql, Sql } from '@slo/testing';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { PartitionedDeliveryHistory1796141498254 } from '../libs/database/src/migrations/1796141498254-partitioned-delivery-history';

/** Instants on both sides of month boundaries (UTC), and one today. */
const INSTANTS = [
  Date.UTC(2026, 8, 15, 12),
  Date.UTC(2026, 9, 31, 23, 59, 59, 999),
  Date.UTC(2026, 10, 1, 0, 0, 0, 0),
  Date.UTC(2026, 10, 30, 23, 59, 59, 998),
  Date.now(),
];

const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7).replace('-', '');

describe('migration PartitionedDeliveryHistory on a database holding rows', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let q: Sql;
  let source: DataSource;
  const migration = new PartitionedDeliveryHistory1796141498254();

  /** Runs one direction of the migration in a transaction, as the migration runner does. */
  const run = async (direction: 'up' | 'down') => {
    const runner = source.createQueryRunner();
    await runner.startTransaction();
    try {
      await migration[direction](runner);
      await runner.commitTransaction();
    } catch (err) {
      await runner.rollbackTransaction();
      throw err;
    } finally {
      await runner.release();
    }
  };
  const snapshot = async () => ({
    deliveries: await q('SELECT * FROM deliveries ORDER BY id'),
    attempts: await q('SELECT * FROM delivery_attempts ORDER BY delivery_id, number'),
  });
  const kind = async (table: string) =>
    (await q<{ relkind: string }>('SELECT relkind FROM pg_class WHERE relname = $1', [table]))[0].relkind;

  beforeAll(async () => {
    db = await createTestDatabase();
    q = sql(db.url);
    source = await new DataSource(dataSourceOptions(db.url)).initialize();
  });

  afterAll(async () => {
    await source?.destroy();
    await db?.drop();
  });

  it('moves every row into the partition of its month, and back, and forward again', async () => {
    // The template is migrated: step back to the plain tables and fill them as an older release would have.
    await run('down');
    expect(await kind('deliveries')).toBe('r');
    await q(
      `INSERT INTO clients (client_id, name, grant_types, token_endpoint_auth_method)
       VALUES ('mig-a', 'A', '{client_credentials}', 'client_secret_basic'), ('mig-b', 'B', '{client_credentials}', 'client_secret_basic')`,
    );
    for (const [i, ms] of INSTANTS.entries()) {
      const [event] = await q<{ id: string }>(
        `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ($1, 'external', $2, $3) RETURNING id`,
        [uuidv7({ msecs: ms }), `mig-${i}`, new Date(ms)],
      );
      for (const [n, client] of ['mig-a', 'mig-b'].entries()) {
        const id = uuidv7({ msecs: ms + n });
        await q(
          `INSERT INTO deliveries (id, event_id, client_id, sub, sid, status, attempts, delivered_at, created_at)
           VALUES ($1, $2, $3, $4, 's1', $5, 1, $6, $6)`,
          [id, event.id, client, `mig-${i}`, n ? 'dead' : 'delivered', new Date(ms + n)],
        );
        await q(
          `INSERT INTO delivery_attempts (id, delivery_id, number, trigger, started_at, duration_ms, outcome)
           VALUES ($1, $2, 1, 'scheduled', $3, 12, $4)`,
          [uuidv7({ msecs: ms + n }), id, new Date(ms + n), n ? 'dead' : 'delivered'],
        );
      }
    }
    const before = await snapshot();
    expect(before.deliveries).toHaveLength(INSTANTS.length * 2);

    await run('up');
    expect(await kind('deliveries')).toBe('p');
    expect(await snapshot()).toEqual(before);
    const placed = await q<{ id: string; part: string }>('SELECT id, tableoid::regclass::text AS part FROM deliveries');
    for (const { id, part } of placed) {
      const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
      expect(part).toBe(`deliveries_p${monthOf(ms)}`);
    }
    const attemptsPlaced = await q<{ part: string; delivery: string }>(
      `SELECT a.tableoid::regclass::text AS part, d.tableoid::regclass::text AS delivery
         FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id`,
    );
    for (const { part, delivery } of attemptsPlaced) expect(part).toBe(delivery.replace('deliveries_', 'delivery_attempts_'));
    // Partitions from the oldest row's month to two months ahead, none missing in between.
    const months = await q<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'deliveries'::regclass ORDER BY c.relname`,
    );
    const first = new Date(INSTANTS[0]);
    const now = new Date();
    const expected: string[] = [];
    for (
      let m = first.getUTCMonth();
      Date.UTC(first.getUTCFullYear(), m, 1) <= Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1);
      m++
    ) {
      expected.push(`deliveries_p${monthOf(Date.UTC(first.getUTCFullYear(), m, 1))}`);
    }
    expect(months.map((r) => r.relname)).toEqual(expected);
    // The per-month unique key still refuses a second delivery of the same event, client and session.
    const [dup] = before.deliveries as { event_id: string; client_id: string; id: string }[];
    await expect(
      q(`INSERT INTO deliveries (id, event_id, client_id, sid, status) VALUES ($1, $2, $3, 's1', 'pending')`, [
        uuidv7({ msecs: parseInt(dup.id.replace(/-/g, '').slice(0, 12), 16) + 5 }),
        dup.event_id,
        dup.client_id,
      ]),
    ).rejects.toThrow(/duplicate key value violates unique constraint/);

    await run('down');
    expect(await kind('deliveries')).toBe('r');
    expect(await snapshot()).toEqual(before);
    expect(await q(`SELECT 1 FROM pg_proc WHERE proname IN ('create_delivery_partitions', 'uuid7_floor')`)).toHaveLength(0);

    await run('up');
    expect(await kind('deliveries')).toBe('p');
    expect(await snapshot()).toEqual(before);
    // Cascades and references still hold across the new shape.
    await q(`DELETE FROM clients WHERE client_id = 'mig-b'`);
    expect(await q(`SELECT 1 FROM deliveries WHERE client_id = 'mig-b'`)).toHaveLength(0);
    expect(await q('SELECT 1 FROM delivery_attempts')).toHaveLength(INSTANTS.length);
  });

  it('refuses deliveries whose id is not a UUIDv7 rather than guess their month', async () => {
    await run('down');
    const [event] = await q<{ id: string }>(
      `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ($1, 'external', 'v4', now()) RETURNING id`,
      [uuidv7()],
    );
    await q(
      `INSERT INTO deliveries (id, event_id, client_id, status) VALUES ('6f1c2a8e-1d2b-4c3d-9e4f-5a6b7c8d9e0f', $1, 'mig-a', 'delivered')`,
      [event.id],
    );
    await expect(run('up')).rejects.toThrow(/1 deliveries have an id that is not a UUIDv7/);
    expect(await kind('deliveries')).toBe('r');
  });
});
