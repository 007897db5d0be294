import { dataSourceOptions } from '@slo/database';
import { DeliveryRetention } from '@slo/delivery';
import { createTestDatabase, sql, Sql, waitFor } from '@slo/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';

const now = new Date();
/** A month well past a 60-day retention. */
const OLD_MONTH = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 6, 1);
const SUFFIX = new Date(OLD_MONTH).toISOString().slice(0, 7).replace('-', '');

describe('retention finishes a DETACH … CONCURRENTLY that was interrupted', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let q: Sql;
  let source: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    q = sql(db.url);
    source = await new DataSource(dataSourceOptions(db.url)).initialize();
  });

  afterAll(async () => {
    await source?.destroy();
    await db?.drop();
  });

  it('finalizes the pending detach, drops the month and its attempts month', async () => {
    await q(
      `INSERT INTO clients (client_id, name, grant_types, token_endpoint_auth_method) VALUES ('det', 'D', '{client_credentials}', 'client_secret_basic')`,
    );
    await q('SELECT create_delivery_partitions($1, 1)', [new Date(OLD_MONTH)]);
    const [event] = await q<{ id: string }>(
      `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ($1, 'external', 'det', now()) RETURNING id`,
      [uuidv7()],
    );
    const id = uuidv7({ msecs: OLD_MONTH + 1000 });
    await q(`INSERT INTO deliveries (id, event_id, client_id, status, delivered_at) VALUES ($1, $2, 'det', 'delivered', now())`, [
      id,
      event.id,
    ]);

    // A reader holds the table while an operator's detach waits for it; the detach is then cancelled.
    const reader = new Client({ connectionString: db.url });
    const detacher = new Client({ connectionString: db.url });
    await reader.connect();
    await detacher.connect();
    try {
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query('SELECT count(*) FROM deliveries');
      const [{ pid }] = (await detacher.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows;
      const detaching = detacher.query(`ALTER TABLE deliveries DETACH PARTITION deliveries_p${SUFFIX} CONCURRENTLY`).then(
        () => null,
        (err: Error) => err,
      );
      await waitFor(
        async () =>
          (await q(`SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhdetachpending`, [`deliveries_p${SUFFIX}`]))
            .length === 1,
        { what: 'the detach to be pending' },
      );
      await q('SELECT pg_cancel_backend($1)', [pid]);
      expect((await detaching)?.message).toMatch(/canceling statement/);
      await reader.query('COMMIT');
    } finally {
      await reader.end();
      await detacher.end();
    }
    expect(
      await q(`SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhdetachpending`, [`deliveries_p${SUFFIX}`]),
    ).toHaveLength(1);

    await new DeliveryRetention(source).prune(60);
    const left = await q<{ t: string | null }>('SELECT to_regclass($1)::text AS t UNION ALL SELECT to_regclass($2)::text', [
      `deliveries_p${SUFFIX}`,
      `delivery_attempts_p${SUFFIX}`,
    ]);
    expect(left.map((r) => r.t)).toEqual([null, null]);
    expect(await q('SELECT 1 FROM deliveries WHERE id = $1', [id])).toHaveLength(0);
    // The months that are not past retention are untouched.
    const months = await q(`SELECT 1 FROM pg_inherits WHERE inhparent = 'deliveries'::regclass`);
    expect(months).toHaveLength(3);
  });
});
