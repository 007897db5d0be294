import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import {
  ApiClient,
  emitLogout,
  FAST_DELIVERY_ENV,
  Receiver,
  registerClient,
  sql,
  Sql,
  startTestStack,
  TestStack,
  waitFor,
  waitForDelivery,
  withPg,
} from '@slo/testing';
import type { Client } from 'pg';
import { v7 as uuidv7 } from 'uuid';

const RETENTION_DAYS = 60;
const DAY_MS = 86_400_000;

/** The first instant (UTC) of the month `offset` months from this one. */
function monthStart(offset: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1);
}
const suffix = (ms: number) => new Date(ms).toISOString().slice(0, 7).replace('-', '');

interface Row {
  id: string;
  eventId: string;
  clientId: string;
  sid: string;
  status: string;
  /** An attempt row too. */
  attempt?: boolean;
}

/**
 * Writes events, deliveries (and attempts) in one transaction with the month partitions they need,
 * so the worker's retention sees them all at once or not at all.
 */
async function insert(c: Client, months: number[], rows: Row[], oldEvents: { id: string; at: number }[] = []): Promise<void> {
  await c.query('BEGIN');
  for (const m of months) await c.query('SELECT create_delivery_partitions($1, 1)', [new Date(m)]);
  for (const e of oldEvents) {
    await c.query(
      `INSERT INTO logout_events (id, trigger, sub, occurred_at, created_at) VALUES ($1, 'external', 'part-user', $2, $2)`,
      [e.id, new Date(e.at)],
    );
  }
  for (const r of rows) {
    await c.query(
      `INSERT INTO deliveries (id, event_id, client_id, sub, sid, status, attempts, next_attempt_at, delivered_at)
       VALUES ($1, $2, $3, 'part-user', $4, $5::varchar, 1, CASE WHEN $5::varchar = 'retrying' THEN now() + interval '1 day' END,
               CASE WHEN $5::varchar = 'delivered' THEN now() END)`,
      [r.id, r.eventId, r.clientId, r.sid, r.status],
    );
    if (r.attempt) {
      await c.query(
        `INSERT INTO delivery_attempts (id, delivery_id, number, trigger, started_at, duration_ms, outcome)
         VALUES ($1, $2, 1, 'scheduled', now(), 5, 'delivered')`,
        [uuidv7(), r.id],
      );
    }
  }
  await c.query('COMMIT');
}

describe('deliveries partitioned by month: partitions ahead, retention by partition, look-ups across months', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let db: Sql;

  const event = async () => {
    const [e] = await db<{ id: string }>(
      `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ($1, 'external', 'part-user', now()) RETURNING id`,
      [uuidv7()],
    );
    return e.id;
  };
  const exists = async (table: string) =>
    (await db<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]))[0].t !== null;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: { ...FAST_DELIVERY_ENV, PURGE_INTERVAL_SECONDS: '5', DELIVERY_RETENTION_DAYS: String(RETENTION_DAYS) },
    });
    db = sql(stack);
    admin = stack.client(await stack.serverToken('admin'));
    emitter = stack.client(await stack.serverToken('logout:emit'));
    for (const id of ['healthy', 'edge']) await registerClient(admin, receiver, id);
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('creates the partitions of this month and the next two ahead', async () => {
    const last = suffix(monthStart(2));
    await db(`ALTER TABLE delivery_attempts DETACH PARTITION delivery_attempts_p${last}`);
    await db(`DROP TABLE delivery_attempts_p${last}`);
    await db(`ALTER TABLE deliveries DETACH PARTITION deliveries_p${last}`);
    await db(`DROP TABLE deliveries_p${last}`);
    await waitFor(async () => (await exists(`deliveries_p${last}`)) && (await exists(`delivery_attempts_p${last}`)), {
      timeoutMs: 20_000,
      what: 'the worker to create the partitions two months ahead again',
    });
    for (const offset of [0, 1, 2]) {
      expect(await exists(`deliveries_p${suffix(monthStart(offset))}`)).toBe(true);
      expect(await exists(`delivery_attempts_p${suffix(monthStart(offset))}`)).toBe(true);
    }
  });

  it('drops a month older than retention with its deliveries and attempts; newer months and months with open deliveries stay', async () => {
    const { event_id: young, deliveries } = await emitLogout(emitter, { sub: 'part-fresh', target_clients: ['healthy'] });
    await waitForDelivery(stack, deliveries[0].id, 'delivered');
    const fresh = await db<{ id: string }>("SELECT id FROM deliveries WHERE status = 'delivered'");
    const oldMonth = monthStart(-5);
    const openMonth = monthStart(-4);
    const oldEvent = uuidv7({ msecs: oldMonth + DAY_MS });
    const gone = [uuidv7({ msecs: oldMonth + DAY_MS }), uuidv7({ msecs: oldMonth + 2 * DAY_MS })];
    const open = uuidv7({ msecs: openMonth + DAY_MS });
    await withPg(stack.dbUrl, (c) =>
      insert(
        c,
        [oldMonth, openMonth],
        [
          { id: gone[0], eventId: oldEvent, clientId: 'healthy', sid: 's1', status: 'delivered', attempt: true },
          // Failed deliveries go with their month too (they no longer stay forever).
          { id: gone[1], eventId: young, clientId: 'healthy', sid: 's2', status: 'dead', attempt: true },
          { id: open, eventId: young, clientId: 'healthy', sid: 's3', status: 'retrying' },
        ],
        [{ id: oldEvent, at: oldMonth + DAY_MS }],
      ),
    );
    expect(await db('SELECT 1 FROM delivery_attempts WHERE delivery_id = ANY($1)', [gone])).toHaveLength(2);

    await waitFor(async () => !(await exists(`deliveries_p${suffix(oldMonth)}`)), {
      timeoutMs: 20_000,
      what: 'the month past retention to be dropped',
    });
    expect(await exists(`delivery_attempts_p${suffix(oldMonth)}`)).toBe(false);
    expect(await db('SELECT 1 FROM deliveries WHERE id = ANY($1)', [gone])).toHaveLength(0);
    expect(await db('SELECT 1 FROM delivery_attempts WHERE delivery_id = ANY($1)', [gone])).toHaveLength(0);
    // An open delivery keeps its month, however old.
    expect(await exists(`deliveries_p${suffix(openMonth)}`)).toBe(true);
    expect(await db('SELECT 1 FROM deliveries WHERE id = $1', [open])).toHaveLength(1);
    expect(await db('SELECT 1 FROM deliveries WHERE id = ANY($1)', [fresh.map((f) => f.id)])).toHaveLength(fresh.length);
    // The young event stays; the old one, left without deliveries, goes.
    expect(await db('SELECT 1 FROM logout_events WHERE id = $1', [young])).toHaveLength(1);
    await waitFor(async () => (await db('SELECT 1 FROM logout_events WHERE id = $1', [oldEvent])).length === 0, {
      timeoutMs: 20_000,
      what: 'the old event without deliveries to be deleted',
    });
  });

  it('pages, finds and lists deliveries on both sides of a month boundary, each once', async () => {
    const boundary = monthStart(0);
    const eventId = await event();
    const rows: Row[] = [-3, -2, -1, 0, 1, 2].map((ms, i) => ({
      id: uuidv7({ msecs: boundary + ms }),
      eventId,
      clientId: 'edge',
      sid: `edge-${i}`,
      status: 'delivered',
      attempt: ms === -1 || ms === 0,
    }));
    await withPg(stack.dbUrl, (c) => insert(c, [monthStart(-1)], rows));
    const parts = await db<{ part: string }>(
      'SELECT DISTINCT tableoid::regclass::text AS part FROM deliveries WHERE id = ANY($1)',
      [rows.map((r) => r.id)],
    );
    expect(parts.map((p) => p.part).sort()).toEqual([`deliveries_p${suffix(monthStart(-1))}`, `deliveries_p${suffix(boundary)}`]);
    const newestFirst = rows.map((r) => r.id).reverse();

    for (const filter of ['client_id=edge', `event_id=${eventId}`]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { data: { id: string }[]; next_cursor: string | null } = await admin.get(
          `/v1/deliveries?${filter}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { expect: 200 },
        );
        seen.push(...page.data.map((d) => d.id));
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen).toEqual(newestFirst);
    }
    for (const r of rows) {
      expect((await admin.get<{ id: string }>(`/v1/deliveries/${r.id}`, { expect: 200 })).id).toBe(r.id);
      const attempts = await admin.get<{ data: unknown[] }>(`/v1/deliveries/${r.id}/attempts`, { expect: 200 });
      expect(attempts.data).toHaveLength(r.attempt ? 1 : 0);
    }
    const shown = await admin.get<{ deliveries: { id: string }[] }>(`/v1/logout-events/${eventId}`, { expect: 200 });
    expect(shown.deliveries.map((d) => d.id).sort()).toEqual([...newestFirst].sort());
    const events = await admin.get<{ data: { id: string }[] }>('/v1/logout-events?client_id=edge&limit=200', { expect: 200 });
    expect(events.data.map((e) => e.id)).toEqual([eventId]);
  });
});
