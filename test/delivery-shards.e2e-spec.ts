import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { OutboxRelay } from '@slo/delivery';
import { DeliveryJob, DeliveryShards, fanoutJobId, shardOf } from '@slo/queue';
import {
  ApiClient,
  basicAuth,
  deleteRedisKeys,
  emitLogout,
  FAST_DELIVERY_ENV,
  Receiver,
  registerClient,
  sql,
  Sql,
  startTestStack,
  TestStack,
  TEST_ADMIN,
  TEST_ON_CLUSTER,
  testRedis,
  TestRedisClient,
  waitFor,
  waitForDelivery,
} from '@slo/testing';

const SHARDS = 3;
const CLIENTS = ['alpha', 'beta'];

interface Emitted {
  eventId: string;
  sub: string;
  deliveryIds: string[];
}

/** The `sub` claim of a logout token (the receiver does not verify it; the pipeline specs do). */
const subOf = (token: string | null) =>
  (JSON.parse(Buffer.from(String(token).split('.')[1], 'base64url').toString()) as { sub: string }).sub;

describe(`sharded delivery queues (DELIVERY_SHARDS=3 on ${TEST_ON_CLUSTER ? 'a Redis Cluster' : 'one Redis'})`, () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let db: Sql;
  let redis: TestRedisClient;
  let shards: DeliveryShards;
  let emitted = 0;
  const prefixOf = (shard: number) => String(shards.options(shard).prefix);

  /** Every job id the shard's queue saw (its BullMQ event stream: added, delayed, active, completed...). */
  async function jobIdsOn(shard: number): Promise<Set<string>> {
    const entries = await redis.xrange(`${prefixOf(shard)}:delivery:events`, '-', '+');
    const ids = new Set<string>();
    for (const [, fields] of entries) {
      for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'jobId') ids.add(fields[i + 1]);
    }
    return ids;
  }

  async function emit(targets = CLIENTS): Promise<Emitted> {
    const sub = `user-${(emitted += 1)}`;
    const answer = await emitLogout(emitter, { sub, target_clients: targets });
    return { eventId: answer.event_id, sub, deliveryIds: answer.deliveries.map((d) => d.id) };
  }

  /** Each client received exactly one logout token for each of `subs`. */
  function expectDeliveredOnce(subs: string[]): void {
    for (const client of CLIENTS) {
      const got = receiver.received(`/${client}/backchannel`).map((r) => subOf(r.logoutToken));
      for (const sub of subs)
        expect({ client, sub, times: got.filter((s) => s === sub).length }).toEqual({ client, sub, times: 1 });
    }
  }

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      // The stack's worker runs shard 0 only; a second one (below) takes shards 1 and 2.
      env: {
        ...FAST_DELIVERY_ENV,
        DELIVERY_SHARDS: String(SHARDS),
        DELIVERY_SHARDS_CONSUMED: '0',
        DELIVERY_MAX_ATTEMPTS: '3',
        BREAKER_FAILURE_THRESHOLD: '1000',
      },
    });
    admin = stack.client(await stack.serverToken('admin'));
    emitter = stack.client(await stack.serverToken('logout:emit'));
    for (const id of CLIENTS) await registerClient(admin, receiver, id);
    db = sql(stack);
    redis = testRedis();
    shards = stack.api!.get(DeliveryShards);
  });

  afterAll(async () => {
    // The stack removes the keys under its prefix and its shards' prefixes.
    await stack?.close();
    await redis?.quit();
    await receiver?.close();
  });

  it('gives each shard a queue of its own, under a prefix of its own', () => {
    expect(shards.count).toBe(SHARDS);
    expect(new Set(shards.queues.map((q) => q.opts.prefix)).size).toBe(SHARDS);
    expect(shards.queues.every((q) => q.name === 'delivery')).toBe(true);
  });

  let waiting: Emitted[] = [];

  it("runs shard 0's jobs on a worker that consumes shard 0 only, and leaves the other shards' jobs waiting", async () => {
    const byShard: Emitted[][] = Array.from({ length: SHARDS }, () => []);
    // Event ids are random: emit until every shard has events (bounded; 3 shards are covered within a few).
    for (let n = 0; n < 200 && byShard.some((list) => list.length < 2); n++) {
      const e = await emit();
      byShard[shardOf(e.eventId, SHARDS)].push(e);
    }
    expect(byShard.map((list) => list.length >= 2)).toEqual([true, true, true]);
    await waitForDelivery(
      stack,
      byShard[0].flatMap((e) => e.deliveryIds),
      'delivered',
    );

    waiting = [...byShard[1], ...byShard[2]];
    const ids = waiting.flatMap((e) => e.deliveryIds);
    // Once the relay could take them (past its grace period), a pass of it adds nothing: their jobs are queued.
    await waitFor(
      async () => {
        const [{ n }] = await db<{ n: number }>(
          `SELECT count(*)::int AS n FROM deliveries WHERE id = ANY($1) AND next_attempt_at < now() - interval '1 second'`,
          [ids],
        );
        return n === ids.length;
      },
      { what: 'the waiting deliveries to be past the relay grace period' },
    );
    expect(await stack.worker!.get(OutboxRelay).relay()).toBe(0);
    const rows = await db<{ status: string; attempts: number }>('SELECT status, attempts FROM deliveries WHERE id = ANY($1)', [
      ids,
    ]);
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
    for (const e of waiting) {
      const shard = shardOf(e.eventId, SHARDS);
      expect(await shards.queues[shard].getJobState(fanoutJobId(e.eventId))).toBe('waiting');
      for (const other of [0, 1, 2].filter((s) => s !== shard)) {
        expect(await shards.queues[other].getJobState(fanoutJobId(e.eventId))).toBe('unknown');
      }
    }
    expect(receiver.requests.filter((r) => waiting.some((e) => e.sub === subOf(r.logoutToken)))).toEqual([]);
    expectDeliveredOnce(byShard[0].map((e) => e.sub));
  });

  it("puts a wiped shard's jobs back on that shard (the outbox relay covers every shard)", async () => {
    for (const shard of [1, 2]) await deleteRedisKeys(redis, prefixOf(shard));
    // The event streams went with the keys: a job id seen on one now was added again after the wipe.
    await waitFor(
      async () => {
        for (const e of waiting) {
          const shard = shardOf(e.eventId, SHARDS);
          if (!(await jobIdsOn(shard)).has(fanoutJobId(e.eventId))) return false;
          if ((await shards.queues[shard].getJobState(fanoutJobId(e.eventId))) !== 'waiting') return false;
        }
        return true;
      },
      { what: "the relay to re-enqueue the wiped shards' fan-out jobs" },
    );
    for (const e of waiting) expect(await shards.queues[0].getJobState(fanoutJobId(e.eventId))).toBe('unknown');
  });

  it('delivers the other shards once a worker for them starts', async () => {
    await stack.start('worker', { DELIVERY_SHARDS_CONSUMED: '1,2' });
    await waitForDelivery(
      stack,
      waiting.flatMap((e) => e.deliveryIds),
      'delivered',
    );
    expectDeliveredOnce(waiting.map((e) => e.sub));
  });

  it('sends each event to the shard its id hashes to, spreading many over every shard, each delivered once', async () => {
    const events: Emitted[] = [];
    for (let i = 0; i < 30; i++) events.push(await emit());
    await waitForDelivery(
      stack,
      events.flatMap((e) => e.deliveryIds),
      'delivered',
    );
    expectDeliveredOnce(events.map((e) => e.sub));
    const seen = await Promise.all([0, 1, 2].map((s) => jobIdsOn(s)));
    for (const e of events) {
      const on = [0, 1, 2].filter((s) => seen[s].has(fanoutJobId(e.eventId)));
      expect({ event: e.eventId, on }).toEqual({ event: e.eventId, on: [shardOf(e.eventId, SHARDS)] });
    }
    expect(new Set(events.map((e) => shardOf(e.eventId, SHARDS))).size).toBeGreaterThan(1);
  });

  it('queues a retry, and an operator retry, on the shard of the delivery event', async () => {
    receiver.reply('/alpha/backchannel', { status: 503 });
    const e = await emit(['alpha']);
    const [id] = e.deliveryIds;
    const [row] = await waitForDelivery(stack, id, 'delivered');
    expect(row.attempts).toBe(2);
    const shard = shardOf(e.eventId, SHARDS);
    const seen = await Promise.all([0, 1, 2].map((s) => jobIdsOn(s)));
    const retriesOn = [0, 1, 2].filter((s) => [...seen[s]].some((jobId) => jobId.startsWith(`${id}-a`)));
    expect(retriesOn).toEqual([shard]);

    await admin.post(`/v1/deliveries/${id}/retry?force=true`, { expect: 200 });
    const manualOn = await Promise.all(
      shards.queues.map(async (q) =>
        (await q.getJobs(['completed'])).some((j) => j.name === DeliveryJob.Manual && j.data.deliveryId === id),
      ),
    );
    expect(manualOn.map((found, s) => (found ? s : -1)).filter((s) => s >= 0)).toEqual([shard]);
  });

  it('reports the queue gauges per shard', async () => {
    const metrics = await stack.client().get<string>('/metrics', { expect: 200 });
    for (const shard of ['0', '1', '2']) {
      expect(metrics).toMatch(new RegExp(`^slo_queue_jobs\\{queue="delivery",state="waiting",shard="${shard}"\\} \\d+$`, 'm'));
      expect(metrics).toMatch(
        new RegExp(`^slo_queue_oldest_waiting_seconds\\{queue="delivery",shard="${shard}"\\} [\\d.]+$`, 'm'),
      );
    }
    expect(metrics).toMatch(/^slo_queue_jobs\{queue="retry-batch",state="waiting"\} \d+$/m);
  });

  it('lists every shard on the queue dashboard', async () => {
    const queues = await stack.client().get<{ queues: { name: string }[] }>('/admin/queues/api/queues', {
      headers: { authorization: basicAuth(TEST_ADMIN) },
      expect: 200,
    });
    expect(queues.queues.map((q) => q.name).sort()).toEqual(['retry-batch', 's0-delivery', 's1-delivery', 's2-delivery']);
  });
});
