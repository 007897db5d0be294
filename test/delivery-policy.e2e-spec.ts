import {
  ApiClient,
  deleteRedisKeys,
  expectQuietFor,
  Receiver,
  redisKeysUnder,
  Sql,
  testRedis,
  TestStack,
  waitFor,
  waitForDelivery,
} from '@slo/testing';
import { jwtVerify } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { PipelineStack, startPipelineStack } from './support/logout-pipeline';

describe('logout pipeline: retries, outcomes, durability and endpoint isolation', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let db: Sql;
  let jwks: PipelineStack['jwks'];
  let register: PipelineStack['register'];
  let emit: PipelineStack['emit'];
  let delivered: PipelineStack['delivered'];
  let attemptsOf: PipelineStack['attemptsOf'];

  beforeAll(async () => {
    ({ stack, receiver, admin, db, jwks, register, emit, delivered, attemptsOf } = await startPipelineStack());
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  describe('outcome policy', () => {
    it('retries temporary failures with a fresh token each time, honouring Retry-After', async () => {
      await register('flaky');
      receiver.reply(
        '/flaky/backchannel',
        { status: 503, body: 'down for maintenance' },
        { status: 429, headers: { 'retry-after': '1' } },
      );
      const started = Date.now();
      const { deliveries } = await emit({ sub: 'u-flaky', target_clients: ['flaky'] });
      await delivered(deliveries[0].id);
      const got = receiver.received('/flaky/backchannel');
      expect(got).toHaveLength(3);
      expect(got[2].at - got[1].at).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeLessThan(10_000);
      const jtis = await Promise.all(got.map(async (r) => (await jwtVerify(r.logoutToken!, jwks)).payload.jti));
      expect(new Set(jtis).size).toBe(3);
      const attempts = await attemptsOf(deliveries[0].id);
      expect(attempts.map((a) => [a.number, a.status_code, a.error_class, a.outcome])).toEqual([
        [1, 503, 'http_503', 'retry'],
        [2, 429, 'http_429', 'retry'],
        [3, 204, null, 'delivered'],
      ]);
      expect(attempts[0].response_excerpt).toBe('down for maintenance');
    });

    it('rejects a 400 and a redirect (never followed) without retrying', async () => {
      await register('refuses');
      await register('redirects');
      receiver.reply('/refuses/backchannel', { status: 400, body: '{"error":"invalid_request"}' });
      receiver.reply('/redirects/backchannel', { status: 302, headers: { location: `${receiver.url}/elsewhere` } });
      const { deliveries } = await emit({ sub: 'u-reject', target_clients: ['refuses', 'redirects'] });
      for (const row of await waitForDelivery(
        stack,
        deliveries.map((d) => d.id),
        'rejected',
      ))
        expect(row.attempts).toBe(1);
      expect(receiver.received('/elsewhere')).toHaveLength(0);
      const byClient = Object.fromEntries(deliveries.map((d) => [d.client_id, d.id]));
      expect((await attemptsOf(byClient.refuses))[0]).toMatchObject({
        status_code: 400,
        response_excerpt: '{"error":"invalid_request"}',
      });
      const [redirected] = await db<{ last_error: string }>('SELECT last_error FROM deliveries WHERE id = $1', [
        byClient.redirects,
      ]);
      expect(redirected.last_error).toBe('http_302');
    });

    it('marks a delivery dead on 410 and disables the endpoint; later logouts to it are kept as skipped', async () => {
      await register('gone');
      receiver.reply('/gone/backchannel', { status: 410 });
      const first = await emit({ sub: 'u-gone', target_clients: ['gone'] });
      await waitForDelivery(stack, first.deliveries[0].id, 'dead');
      const client = await admin.get('/v1/clients/gone', { expect: 200 });
      expect(client.endpoint_status).toBe('disabled');
      expect(client.endpoint_status_reason).toMatch(/410/);
      expect(client.status).toBe('active');
      const second = await emit({ sub: 'u-gone', target_clients: ['gone'] });
      expect(second.deliveries[0].status).toBe('skipped');
      expect(receiver.received('/gone/backchannel')).toHaveLength(1);
    });

    it('gives up after the client’s maximum number of attempts', async () => {
      await register('broken', { delivery_max_attempts: 2 });
      receiver.setDefault('/broken/backchannel', { status: 500 });
      const { deliveries } = await emit({ sub: 'u-broken', target_clients: ['broken'] });
      const [row] = await waitForDelivery(stack, deliveries[0].id, 'dead');
      expect(row.attempts).toBe(2);
      expect(receiver.received('/broken/backchannel')).toHaveLength(2);
    });

    it('times out an endpoint that does not answer, then retries', async () => {
      await register('sleepy', { delivery_timeout_ms: 300 });
      receiver.reply('/sleepy/backchannel', 'hang');
      const { deliveries } = await emit({ sub: 'u-sleepy', target_clients: ['sleepy'] });
      await delivered(deliveries[0].id);
      const attempts = await attemptsOf(deliveries[0].id);
      expect(attempts.map((a) => [a.error_class, a.outcome])).toEqual([
        ['timeout', 'retry'],
        [null, 'delivered'],
      ]);
    });
  });

  describe('durability: PostgreSQL is the truth, Redis the transport', () => {
    it('delivers a committed delivery that never reached the queue (crash between commit and enqueue)', async () => {
      await register('orphan');
      // UUIDv7 ids of now, as the pipeline makes them: deliveries are partitioned by the month of their id.
      const [event] = await db<{ id: string }>(
        `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ($1, 'external', 'u-orphan', now()) RETURNING id`,
        [uuidv7()],
      );
      const [row] = await db<{ id: string }>(
        `INSERT INTO deliveries (id, event_id, client_id, sub, status, next_attempt_at)
         VALUES ($2, $1, 'orphan', 'u-orphan', 'pending', now() - interval '1 minute') RETURNING id`,
        [event.id, uuidv7()],
      );
      await delivered(row.id, 20_000);
      expect(receiver.received('/orphan/backchannel')).toHaveLength(1);
    });

    it('recovers deliveries after Redis loses every key of the deployment', async () => {
      await register('amnesia');
      receiver.reply('/amnesia/backchannel', { status: 503, headers: { 'retry-after': '2' } });
      const { deliveries } = await emit({ sub: 'u-amnesia', target_clients: ['amnesia'] });
      await waitForDelivery(stack, deliveries[0].id, 'retrying');
      const redis = testRedis();
      try {
        expect((await redisKeysUnder(redis, stack.config.redis.prefix)).length).toBeGreaterThan(0);
        await deleteRedisKeys(redis, stack.config.redis.prefix);
      } finally {
        await redis.quit();
      }
      await delivered(deliveries[0].id, 20_000);
      expect(receiver.received('/amnesia/backchannel')).toHaveLength(2);
    });
  });

  describe('isolation', () => {
    it('bounds the workers one slow endpoint holds, so other endpoints are not delayed', async () => {
      await register('slow', { delivery_timeout_ms: 1500, delivery_max_attempts: 1 });
      await register('quick');
      receiver.setDefault('/slow/backchannel', { status: 204, delayMs: 1000 });
      const slow = await Promise.all(Array.from({ length: 6 }, (_, i) => emit({ sub: `u-slow-${i}`, target_clients: ['slow'] })));
      const quick = await emit({ sub: 'u-quick', target_clients: ['quick'] });
      const quickRow = await delivered(quick.deliveries[0].id);
      const slowRows = await waitForDelivery(
        stack,
        slow.map((s) => s.deliveries[0].id),
        'delivered',
        { timeoutMs: 20_000 },
      );
      // Not delayed: the quick endpoint was done before the slow one finished any send (each takes 1 s).
      expect(quickRow.delivered_at!.getTime()).toBeLessThan(Math.min(...slowRows.map((r) => r.delivered_at!.getTime())));
      expect(receiver.maxInFlight.get('/slow/backchannel')).toBe(2);
    });

    it('opens the circuit breaker after repeated failures; held-back sends use up no attempts', async () => {
      await register('tripping', { delivery_max_attempts: 50 });
      const path = '/tripping/backchannel';
      receiver.setDefault(path, { status: 503 });
      const events = await Promise.all(
        Array.from({ length: 4 }, (_, i) => emit({ sub: `u-trip-${i}`, target_clients: ['tripping'] })),
      );
      const ids = events.map((e) => e.deliveries[0].id);
      await waitFor(() => receiver.received(path).length >= 3, { what: 'three failures' });
      // Open, and no send in flight: until the cooldown ends nothing reaches the endpoint.
      const { breaker } = await waitFor(async () => {
        const health = await admin.get<{ breaker: { state: string; open_until: string } }>('/v1/clients/tripping/health', {
          expect: 200,
        });
        const sending = await db("SELECT 1 FROM deliveries WHERE id = ANY($1) AND status = 'delivering'", [ids]);
        return health.breaker.state === 'open' && sending.length === 0 ? health : null;
      });
      const whileOpen = receiver.received(path).length;
      await expectQuietFor(Date.parse(breaker.open_until) - Date.now() - 100, () => receiver.received(path).length !== whileOpen);
      expect(receiver.received(path).length).toBe(whileOpen);

      receiver.setDefault(path, { status: 204 });
      await waitForDelivery(stack, ids, 'delivered', { timeoutMs: 20_000 });
      const [{ attempts }] = await db<{ attempts: number }>(
        'SELECT sum(attempts)::int AS attempts FROM deliveries WHERE id = ANY($1)',
        [ids],
      );
      expect(attempts).toBe(receiver.received(path).length);
    });
  });
});
