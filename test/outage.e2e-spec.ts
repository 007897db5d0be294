import { INestApplication } from '@nestjs/common';
import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import {
  ApiClient,
  apiClient,
  createTestDatabase,
  deleteRedisKeys,
  emitLogout,
  FAST_DELIVERY_ENV,
  freePort,
  HttpSession,
  Receiver,
  RegisteredClient,
  registerClient,
  requestServerToken,
  serverToken,
  signIn,
  Sql,
  sql,
  TcpProxy,
  TEST_REDIS_URL,
  testConfig,
  waitFor,
  waitForDelivery,
} from '@slo/testing';
import { REDIS } from '@slo/queue';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { captureLogs, LogLine } from './support/captured-logs';

const USER = { email: 'ada@example.com', password: 'correct horse battery' };

/**
 * The apps under test reach PostgreSQL and Redis through loopback proxies the test stops (every
 * connection dropped, new ones refused) and starts again on the same port: the stores are
 * unreachable for the apps, not stopped, and nothing is restarted.
 */
describe('outages: PostgreSQL or Redis unreachable, then back', () => {
  let pg: TcpProxy;
  let redis: TcpProxy;
  let receiver: Receiver;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let query: Sql;
  let prefix: string;
  const apps: INestApplication[] = [];
  const urls = { identity: '', api: '', worker: '' };
  let admin: ApiClient;
  let emitter: ApiClient;
  let client: RegisteredClient;
  let slow: RegisteredClient;
  let logs: LogLine[];
  let restoreStdout: () => void;

  const adminToken = () => requestServerToken(urls.identity, 'admin');
  const ready = (base: string, status: number) => apiClient(base).send('GET', '/health/ready', { expect: status });
  /** Every app ready (waitFor retries while one throws). */
  const allReady = async () => {
    for (const base of Object.values(urls)) await ready(base, 200);
    return true;
  };
  const outageLines = (dep: string) => logs.filter((l) => l.msg.startsWith(`${dep} is unreachable`));
  const recoveryLines = (dep: string) => logs.filter((l) => l.msg.startsWith(`${dep} is reachable again`));

  beforeAll(async () => {
    ({ lines: logs, restore: restoreStdout } = captureLogs());
    receiver = await Receiver.start();
    pg = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    redis = await TcpProxy.start({ host: '127.0.0.1', port: 6379 });
    db = await createTestDatabase();
    query = sql(db.url);
    prefix = `slotest-${randomBytes(4).toString('hex')}`;
    const ports = { identity: await freePort(), api: await freePort(), worker: await freePort() };
    for (const kind of ['identity', 'api', 'worker'] as const) urls[kind] = `http://127.0.0.1:${ports[kind]}`;
    const config = testConfig({
      DATABASE_URL: pg.rewrite(db.url),
      REDIS_URL: redis.rewrite(TEST_REDIS_URL),
      QUEUE_PREFIX: prefix,
      IDENTITY_ISSUER: urls.identity,
      API_PUBLIC_URL: urls.api,
      LOG_LEVEL: 'info',
      // Set, so the only warnings are the outage lines this file counts.
      METRICS_TOKEN: 'outage-test-metrics-token-0123456789abcdef',
      LOGOUT_REDIRECT_WAIT_MS: '200',
      ...FAST_DELIVERY_ENV,
    });
    for (const [create, port] of [
      [createIdentityApp, ports.identity],
      [createApiApp, ports.api],
      [createWorkerApp, ports.worker],
    ] as const) {
      const app = await create(config);
      await app.listen(port, '127.0.0.1');
      apps.push(app);
    }
    await apps[0].get(UsersService).create({ ...USER, name: 'Ada' });
    admin = apiClient(urls.api, await serverToken(urls.identity, 'admin'));
    emitter = admin.as(await serverToken(urls.identity, 'logout:emit'));
    client = await registerClient(admin, receiver, 'app-outage');
    slow = await registerClient(admin, receiver, 'app-slow');
  });

  afterAll(async () => {
    await pg?.resume();
    await redis?.resume();
    for (const app of apps.reverse()) await app.close();
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
    await db?.drop();
    await receiver?.close();
    await pg?.stop();
    await redis?.stop();
    restoreStdout?.();
  });

  describe('PostgreSQL unreachable', () => {
    let browser: HttpSession;
    let inFlight: string;

    beforeAll(async () => {
      browser = new HttpSession();
      await signIn(urls.identity, browser, client, USER);
      // A send that is answered while PostgreSQL is unreachable: its outcome is recorded once it is back.
      const { sid } = await signIn(urls.identity, new HttpSession(), slow, USER);
      receiver.reply('/app-slow/backchannel', { status: 204, delayMs: 500 });
      inFlight = (await emitLogout(emitter, { sid })).deliveries[0].id;
      await waitFor(() => receiver.received('/app-slow/backchannel').length === 1, { what: 'the slow send to start' });
      await pg.stop();
    });

    it('/health/ready answers 503 naming postgres on identity, api and worker', async () => {
      for (const base of Object.values(urls)) {
        const r = await ready(base, 503);
        expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(r.body).toMatchObject({ status: 'error', unavailable: ['postgres'], error: { postgres: { status: 'down' } } });
        expect(r.body.info).toMatchObject({ redis: { status: 'up' } });
      }
    });

    it('api routes answer 503 "unavailable" with Retry-After, ingestion included', async () => {
      const clients = await admin.send('GET', '/v1/clients', { expect: 503 });
      const ingest = await emitter.send('POST', '/v1/logout-events', { body: { sub: 'someone' }, expect: 503 });
      for (const res of [clients, ingest]) {
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(res.body).toMatchObject({ error: 'unavailable', dependency: 'postgres' });
      }
    });

    it('/token answers 503 temporarily_unavailable, /auth and GET /logout an HTML 503 page', async () => {
      const token = await adminToken();
      expect(token.status).toBe(503);
      expect(token.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable', dependency: 'postgres' });

      const auth = await fetch(
        `${urls.identity}/auth?${new URLSearchParams({ client_id: client.client_id, response_type: 'code', scope: 'openid' })}`,
        { headers: { accept: 'text/html' }, redirect: 'manual' },
      );
      expect(auth.status).toBe(503);
      expect(auth.headers.get('content-type')).toMatch(/text\/html/);
      expect(await auth.text()).toContain('Temporarily unavailable');

      const logout = await browser.request(`${urls.identity}/logout?client_id=${client.client_id}`, {
        headers: { accept: 'text/html' },
      });
      expect(logout.status).toBe(503);
      expect(logout.headers.get('retry-after')).toMatch(/^\d+$/);
      // A browser route: an HTML page, not the api's JSON.
      expect(logout.headers.get('content-type')).toMatch(/text\/html/);
      expect(await logout.text()).toContain('Temporarily unavailable');
    });

    it('the worker keeps running its jobs against the unreachable database', async () => {
      // Read from Redis directly (the test does not go through the proxy): maintenance runs keep failing.
      const direct = new Redis(TEST_REDIS_URL);
      try {
        await waitFor(async () => (await direct.zcard(`${prefix}:maintenance:failed`)) >= 3, {
          timeoutMs: 15_000,
          intervalMs: 200,
          what: 'three failed maintenance runs',
        });
      } finally {
        direct.disconnect();
      }
    });

    it('everything answers again once PostgreSQL is back, without a restart, and logouts are delivered', async () => {
      await pg.resume();
      await waitFor(allReady, { timeoutMs: 5000, intervalMs: 200, what: 'every app to be ready again' });
      await admin.get('/v1/clients', { expect: 200 });
      expect((await adminToken()).status).toBe(200);
      // The session the failed GET /logout could not end is still there: this logout ends it.
      const logout = await browser.request(`${urls.identity}/logout?client_id=${client.client_id}`);
      expect(logout.status).toBe(303);
      await waitFor(() => receiver.received('/app-outage/backchannel').length === 1, {
        timeoutMs: 6000,
        what: 'the worker to deliver the logout',
      });
      // The send answered during the outage is recorded, once.
      await waitForDelivery({ dbUrl: db.url }, inFlight, 'delivered');
      expect(receiver.received('/app-slow/backchannel')).toHaveLength(1);
      expect(await query('SELECT outcome FROM delivery_attempts WHERE delivery_id = $1', [inFlight])).toHaveLength(1);
    });
  });

  describe('Redis unreachable', () => {
    let browser: HttpSession;
    let other: { sid: string };
    let before: number;
    let reconnects = 0;

    beforeAll(async () => {
      browser = new HttpSession();
      await signIn(urls.identity, browser, client, USER);
      other = await signIn(urls.identity, new HttpSession(), client, USER);
      before = receiver.received('/app-outage/backchannel').length;
      apps[2].get<Redis>(REDIS).on('reconnecting', () => reconnects++);
      await redis.stop();
    });

    it('/health/ready answers 503 naming redis on identity, api and worker', async () => {
      for (const base of Object.values(urls)) {
        const r = await ready(base, 503);
        expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(r.body).toMatchObject({ status: 'error', unavailable: ['redis'], error: { redis: { status: 'down' } } });
      }
    });

    it('logouts recorded meanwhile commit at once: ingestion answers 202, GET /logout ends the session', async () => {
      const started = Date.now();
      const { event_id: eventId } = await emitLogout(emitter, { sid: other.sid });
      const logout = await browser.request(`${urls.identity}/logout?client_id=${client.client_id}`);
      expect(logout.status).toBe(303);
      // Neither waited for Redis to come back (an enqueue gives up after 2 s; later ones are skipped
      // at once): both answered while it is still unreachable, well within a generous bound.
      expect(redis.running).toBe(false);
      expect(Date.now() - started).toBeLessThan(20_000);
      const events = await query<{ id: string; n: number }>(
        `SELECT e.id, count(d.id)::int AS n FROM logout_events e JOIN deliveries d ON d.event_id = e.id
          WHERE e.occurred_at >= $1 GROUP BY e.id`,
        [new Date(started)],
      );
      expect(events).toHaveLength(2);
      expect(events.map((e) => e.id)).toContain(eventId);
    });

    it('what does not need Redis keeps working: a token, a sign-in', async () => {
      expect((await adminToken()).status).toBe(200);
      await signIn(urls.identity, new HttpSession(), client, USER);
    });

    it('what needs Redis answers 503 "unavailable" with Retry-After (an operator retry, a bulk retry batch)', async () => {
      const page = await admin.get<{ data: { id: string }[] }>('/v1/deliveries?client_id=app-outage', { expect: 200 });
      const res = await admin.send('POST', `/v1/deliveries/${page.data[0].id}/retry`, { body: {}, expect: 503 });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.body).toMatchObject({ error: 'unavailable', dependency: 'redis' });
      const since = new Date(Date.now() - 3600_000).toISOString();
      const batch = await admin.post('/v1/retries', { body: { since }, expect: 503 });
      expect(batch).toMatchObject({ error: 'unavailable', dependency: 'redis' });
    });

    it('the worker keeps trying to reconnect, without giving up', async () => {
      // Several seconds of outage, every connection failing to reconnect again and again; attempts
      // stay at most a second apart (a backoff to BullMQ's 20 s would leave Redis unused long after it is back).
      await waitFor(() => reconnects >= 11, {
        timeoutMs: 12_000,
        intervalMs: 100,
        what: 'eleven reconnect attempts of the worker',
      });
    });

    it('once Redis is back the logouts recorded meanwhile are delivered within seconds, without a restart', async () => {
      await redis.resume();
      await waitFor(allReady, { timeoutMs: 5000, intervalMs: 200, what: 'every app to be ready again' });
      await waitFor(() => receiver.received('/app-outage/backchannel').length === before + 2, {
        timeoutMs: 6000,
        intervalMs: 100,
        what: 'both logouts to be delivered',
      });
    });
  });

  it('logs one line per outage and one per recovery, per store, not one per request or job', async () => {
    await waitFor(() => recoveryLines('redis').length > 0, { timeoutMs: 5000, what: 'the redis recovery line' });
    for (const dep of ['postgres', 'redis']) {
      expect(outageLines(dep)).toHaveLength(1);
      expect(recoveryLines(dep)).toHaveLength(1);
    }
    expect(outageLines('postgres')[0].level).toBe(40);
    // Besides the access log (one line per request, as always) nothing warned or failed: no line per
    // failed request, job, enqueue, heartbeat or reconnect. The relay saying it re-enqueued the
    // logouts recorded during the Redis outage is expected.
    const others = logs.filter(
      (l) => l.level >= 40 && !('res' in l) && l.context !== 'Outage' && !/^re-enqueued deliveries/.test(l.msg),
    );
    expect(others).toEqual([]);
  });
});
