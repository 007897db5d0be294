import { INestApplication } from '@nestjs/common';
import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import {
  createTestDatabase,
  deleteRedisKeys,
  FAST_DELIVERY_ENV,
  freePort,
  HttpSession,
  Receiver,
  signIn,
  TcpProxy,
  TEST_ADMIN,
  TEST_REDIS_URL,
  testConfig,
  TestClient,
  waitFor,
  withPg,
} from '@slo/testing';
import { REDIS } from '@slo/queue';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';

const USER = { email: 'ada@example.com', password: 'correct horse battery' };

interface LogLine {
  level: number;
  msg: string;
  context?: string;
}

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
  let prefix: string;
  const apps: INestApplication[] = [];
  const urls = { identity: '', api: '', worker: '' };
  let admin: string;
  let emitter: string;
  let client: TestClient;
  let slow: TestClient;
  const logs: LogLine[] = [];
  let stdoutSpy: jest.SpyInstance;

  const api = (method: string, path: string, body?: unknown, token = admin) =>
    fetch(`${urls.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const sql = <T>(text: string, params: unknown[] = []) =>
    withPg(db.url, (c) => c.query(text, params)).then((r) => r.rows as T[]);

  async function registerClient(clientId: string): Promise<TestClient> {
    const res = await api('POST', '/v1/clients', {
      client_id: clientId,
      client_name: clientId,
      redirect_uris: [`http://127.0.0.1:9/${clientId}/callback`],
      backchannel_logout_uri: `${receiver.url}/${clientId}/backchannel`,
    });
    expect(res.status).toBe(201);
    return { ...((await res.json()) as TestClient), redirect_uri: `http://127.0.0.1:9/${clientId}/callback` };
  }

  const clientCredentials = () =>
    fetch(`${urls.identity}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${TEST_ADMIN.clientId}:${TEST_ADMIN.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin' }),
    });

  const ready = async (base: string) => {
    const res = await fetch(`${base}/health/ready`);
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as Record<string, unknown>,
    };
  };

  const allReady = async () => {
    for (const base of Object.values(urls)) if ((await ready(base)).status !== 200) return false;
    return true;
  };

  const outageLines = (dep: string) => logs.filter((l) => l.msg.startsWith(`${dep} is unreachable`));
  const recoveryLines = (dep: string) => logs.filter((l) => l.msg.startsWith(`${dep} is reachable again`));

  beforeAll(async () => {
    // pino writes to process.stdout once its write is replaced: every app's log lines, captured here.
    stdoutSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          /* not a log line */
        }
      }
      return true;
    });
    receiver = await Receiver.start();
    pg = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    redis = await TcpProxy.start({ host: '127.0.0.1', port: 6379 });
    db = await createTestDatabase();
    prefix = `slotest-${randomBytes(4).toString('hex')}`;
    const [identityPort, apiPort, workerPort] = [await freePort(), await freePort(), await freePort()];
    urls.identity = `http://127.0.0.1:${identityPort}`;
    urls.api = `http://127.0.0.1:${apiPort}`;
    urls.worker = `http://127.0.0.1:${workerPort}`;
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
      [createIdentityApp, identityPort],
      [createApiApp, apiPort],
      [createWorkerApp, workerPort],
    ] as const) {
      const app = await create(config);
      await app.listen(port, '127.0.0.1');
      apps.push(app);
    }
    await apps[0].get(UsersService).create({ ...USER, name: 'Ada' });
    admin = ((await (await clientCredentials()).json()) as { access_token: string }).access_token;
    const tokenRes = await fetch(`${urls.identity}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${TEST_ADMIN.clientId}:${TEST_ADMIN.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'logout:emit' }),
    });
    emitter = ((await tokenRes.json()) as { access_token: string }).access_token;
    client = await registerClient('app-outage');
    slow = await registerClient('app-slow');
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
    stdoutSpy?.mockRestore();
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
      const res = await api('POST', '/v1/logout-events', { sid }, emitter);
      expect(res.status).toBe(202);
      inFlight = ((await res.json()) as { deliveries: { id: string }[] }).deliveries[0].id;
      await waitFor(() => receiver.received('/app-slow/backchannel').length === 1, { what: 'the slow send to start' });
      await pg.stop();
    });

    it('/health/ready answers 503 naming postgres on identity, api and worker', async () => {
      for (const base of Object.values(urls)) {
        const r = await ready(base);
        expect(r.status).toBe(503);
        expect(r.retryAfter).toMatch(/^\d+$/);
        expect(r.body).toMatchObject({ status: 'error', unavailable: ['postgres'], error: { postgres: { status: 'down' } } });
        expect(r.body.info).toMatchObject({ redis: { status: 'up' } });
      }
    });

    it('api routes answer 503 "unavailable" with Retry-After, ingestion included', async () => {
      for (const res of [await api('GET', '/v1/clients'), await api('POST', '/v1/logout-events', { sub: 'someone' }, emitter)]) {
        expect(res.status).toBe(503);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await res.json()).toMatchObject({ error: 'unavailable', dependency: 'postgres' });
      }
    });

    it('/token answers 503 temporarily_unavailable, /auth and GET /logout an HTML 503 page', async () => {
      const token = await clientCredentials();
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
      expect((await api('GET', '/v1/clients')).status).toBe(200);
      expect((await clientCredentials()).status).toBe(200);
      // The session the failed GET /logout could not end is still there: this logout ends it.
      const logout = await browser.request(`${urls.identity}/logout?client_id=${client.client_id}`);
      expect(logout.status).toBe(303);
      await waitFor(() => receiver.received('/app-outage/backchannel').length === 1, {
        timeoutMs: 6000,
        what: 'the worker to deliver the logout',
      });
      // The send answered during the outage is recorded, once.
      await waitFor(
        async () =>
          (await sql<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [inFlight]))[0].status === 'delivered',
        { timeoutMs: 15_000, what: 'the in-flight delivery to be recorded as delivered' },
      );
      expect(receiver.received('/app-slow/backchannel')).toHaveLength(1);
      expect(await sql('SELECT outcome FROM delivery_attempts WHERE delivery_id = $1', [inFlight])).toHaveLength(1);
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
        const r = await ready(base);
        expect(r.status).toBe(503);
        expect(r.retryAfter).toMatch(/^\d+$/);
        expect(r.body).toMatchObject({ status: 'error', unavailable: ['redis'], error: { redis: { status: 'down' } } });
      }
    });

    it('logouts recorded meanwhile commit at once: ingestion answers 202, GET /logout ends the session', async () => {
      const started = Date.now();
      const res = await api('POST', '/v1/logout-events', { sid: other.sid }, emitter);
      expect(res.status).toBe(202);
      const eventId = ((await res.json()) as { event_id: string }).event_id;
      const logout = await browser.request(`${urls.identity}/logout?client_id=${client.client_id}`);
      expect(logout.status).toBe(303);
      // Neither waited for Redis (an enqueue gives up after 2 s; later ones are skipped at once).
      expect(Date.now() - started).toBeLessThan(5000);
      const events = await sql<{ id: string; n: number }>(
        `SELECT e.id, count(d.id)::int AS n FROM logout_events e JOIN deliveries d ON d.event_id = e.id
          WHERE e.occurred_at >= $1 GROUP BY e.id`,
        [new Date(started)],
      );
      expect(events).toHaveLength(2);
      expect(events.map((e) => e.id)).toContain(eventId);
    });

    it('what does not need Redis keeps working: a token, a sign-in', async () => {
      expect((await clientCredentials()).status).toBe(200);
      await signIn(urls.identity, new HttpSession(), client, USER);
    });

    it('what needs Redis answers 503 "unavailable" with Retry-After (an operator retry, a bulk retry batch)', async () => {
      const page = (await (await api('GET', '/v1/deliveries?client_id=app-outage')).json()) as { data: { id: string }[] };
      const d = page.data[0];
      const res = await api('POST', `/v1/deliveries/${d.id}/retry`, {});
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ error: 'unavailable', dependency: 'redis' });
      const batch = await api('POST', '/v1/retries', { since: new Date(Date.now() - 3600_000).toISOString() });
      expect(batch.status).toBe(503);
      expect(await batch.json()).toMatchObject({ error: 'unavailable', dependency: 'redis' });
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
