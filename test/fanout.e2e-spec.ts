import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import { LogoutService } from '@slo/logout';
import {
  ApiClient,
  FAST_DELIVERY_ENV,
  freePort,
  HttpSession,
  Receiver,
  registerClient,
  RegisteredClient,
  signIn,
  sql,
  Sql,
  startTestStack,
  TestStack,
  TEST_ADMIN,
  testRedisEnv,
  waitFor,
  waitForDelivery,
} from '@slo/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { claimsOf } from './support/oidc';

const USER = { email: 'ada@example.com', password: 'analytical engine 1843', name: 'Ada' };

describe('fan-out per event: isolation, fairness, the redirect wait', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let db: Sql;
  const register = (clientId: string) => registerClient(admin, receiver, clientId);

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      // The redirect wait keeps its defaults (LOGOUT_REDIRECT_WAIT_MS, LOGOUT_REDIRECT_WAIT_FOR).
      env: { ...FAST_DELIVERY_ENV, DELIVERY_ENDPOINT_CONCURRENCY: '4', DELIVERY_MAX_ATTEMPTS: '1' },
    });
    await stack.identity.get(UsersService).create(USER);
    admin = stack.client(await stack.serverToken('admin'));
    db = sql(stack);
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('records the 49 healthy deliveries of a 50-target event while the hanging one is in flight, before it could time out', async () => {
    const ids = Array.from({ length: 49 }, (_, i) => `healthy-${String(i).padStart(2, '0')}`);
    for (const id of [...ids, 'hanging']) await register(id);
    receiver.setDefault('/hanging/backchannel', 'hang');
    const { event } = await stack.api!.get(LogoutService).record({
      trigger: 'external',
      sub: 'user-50',
      targetClientIds: [...ids, 'hanging'],
    });
    const rows = await waitFor(
      async () => {
        const r = await db<{ client_id: string; status: string; ms: number }>(
          `SELECT d.client_id, d.status, extract(epoch FROM (d.delivered_at - e.created_at)) * 1000 AS ms
             FROM deliveries d JOIN logout_events e ON e.id = d.event_id WHERE d.event_id = $1`,
          [event.id],
        );
        return r.filter((x) => x.status === 'delivered').length === 49 ? r : null;
      },
      { timeoutMs: 10_000, what: '49 healthy deliveries' },
    );
    const healthy = rows.filter((r) => r.client_id !== 'hanging');
    expect(healthy.every((r) => r.status === 'delivered')).toBe(true);
    // Generous bound: all within the hanging send's timeout (DELIVERY_TIMEOUT_MS, 5 s), so none waited for it.
    expect(Math.max(...healthy.map((r) => Number(r.ms)))).toBeLessThan(5000);
    // Read in the same query: the hanging endpoint got its request and has not answered.
    expect(rows.find((r) => r.client_id === 'hanging')?.status).toBe('delivering');
    expect(receiver.received('/hanging/backchannel')).toHaveLength(1);
  });

  /** `n` rejected deliveries to `clientId` (its endpoint answers 400 once each). */
  async function rejectedDeliveries(clientId: string, n: number): Promise<string[]> {
    receiver.reply(`/${clientId}/backchannel`, ...Array.from({ length: n }, () => ({ status: 400 })));
    const logouts = stack.api!.get(LogoutService);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await logouts.record({ trigger: 'external', sub: `${clientId}-user-${i}`, targetClientIds: [clientId] });
      ids.push(r.deliveries[0].id);
    }
    await waitForDelivery(stack, ids, 'rejected');
    return ids;
  }

  it('sends concurrent manual retries through the endpoint limit (4), never more at once', async () => {
    await register('limited');
    const ids = await rejectedDeliveries('limited', 16);
    const path = '/limited/backchannel';
    receiver.maxInFlight.delete(path);
    receiver.setDefault(path, { status: 204, delayMs: 200 });
    const bodies = await Promise.all(
      ids.map((id) =>
        admin.post<{ delivery: { status: string }; attempt: { trigger: string } }>(`/v1/deliveries/${id}/retry`, { expect: 200 }),
      ),
    );
    expect(bodies.every((b) => b.delivery.status === 'delivered' && b.attempt.trigger === 'manual')).toBe(true);
    expect(receiver.received(path)).toHaveLength(32);
    expect(receiver.maxInFlight.get(path)).toBeLessThanOrEqual(4);
    expect(receiver.maxInFlight.get(path)).toBeGreaterThan(1);
  });

  it("runs two clients' bulk retry batches side by side: a 1-delivery batch is not held back by a slow one", async () => {
    await register('bulk-slow');
    await register('bulk-quick');
    await rejectedDeliveries('bulk-slow', 12);
    await rejectedDeliveries('bulk-quick', 1);
    receiver.setDefault('/bulk-slow/backchannel', { status: 204, delayMs: 400 });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const create = async (clientId: string) =>
      (
        await admin.post<{ id: string }>('/v1/retries', {
          body: { client_id: clientId, statuses: ['rejected'], since },
          expect: 202,
        })
      ).id;
    const slow = await create('bulk-slow');
    const quick = await create('bulk-quick');
    const done = (id: string) =>
      waitFor(
        async () => {
          const [b] = await db<{ state: string; succeeded: number; created_at: Date; finished_at: Date }>(
            'SELECT state, succeeded, created_at, finished_at FROM retry_batches WHERE id = $1',
            [id],
          );
          return b.state === 'done' ? b : null;
        },
        { what: `the batch ${id}` },
      );
    const [q, s] = [await done(quick), await done(slow)];
    expect([q.succeeded, s.succeeded]).toEqual([1, 12]);
    // 12 sends of 400 ms, 4 at a time, take at least 1.2 s; the quick batch finished while the slow one ran.
    expect(s.finished_at.getTime() - s.created_at.getTime()).toBeGreaterThanOrEqual(1200);
    expect(q.finished_at.getTime()).toBeLessThan(s.finished_at.getTime());
    // Before the slow batch began its last round: its 9th retry send (after the 12 rejected sends) came later.
    expect(q.finished_at.getTime()).toBeLessThan(receiver.received('/bulk-slow/backchannel')[12 + 8].at);
  });

  describe('GET /logout waits, by default, for the application the user returns to', () => {
    async function threeApps(prefix: string) {
      const apps: RegisteredClient[] = [];
      for (const name of ['a', 'b', 'c']) apps.push(await register(`${prefix}-${name}`));
      const session = new HttpSession();
      for (const app of apps) await signIn(stack, session, app, USER);
      const [a] = apps;
      const query = `client_id=${a.client_id}&redirect_uri=${encodeURIComponent(a.redirect_uri)}`;
      return { a, logout: () => session.request(`${stack.identityUrl}/logout?${query}`) };
    }
    const statusOf = async (clientId: string) => {
      const q = 'SELECT status, delivered_at FROM deliveries WHERE client_id = $1';
      return (await db<{ status: string; delivered_at: Date }>(q, [clientId]))[0];
    };

    it('answers after the delivery to app A is recorded', async () => {
      const { a, logout } = await threeApps('wait');
      receiver.setDefault('/wait-b/backchannel', { status: 204, delayMs: 300 });
      const res = await logout();
      const answeredAt = Date.now();
      expect(res.status).toBe(303);
      const row = await statusOf(a.client_id);
      // Read right after the answer, with no waiting: A was told and it is recorded.
      expect(row.status).toBe('delivered');
      expect(row.delivered_at.getTime()).toBeLessThanOrEqual(answeredAt);
      expect(receiver.received('/wait-a/backchannel')[0].at).toBeLessThanOrEqual(answeredAt);
    });

    it('answers when the budget (1,000 ms) runs out if app A does not answer', async () => {
      const { a, logout } = await threeApps('hang');
      receiver.setDefault('/hang-a/backchannel', 'hang');
      const started = Date.now();
      const res = await logout();
      const took = Date.now() - started;
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(a.redirect_uri);
      expect(took).toBeGreaterThanOrEqual(1000);
      // Generous bound: long before the hanging send's 5 s timeout, which the status below shows has not passed.
      expect(took).toBeLessThan(5000);
      expect((await statusOf(a.client_id)).status).toBe('delivering');
    });
  });
});

/** The worker as its own process (apps/worker from source), so it can be killed with SIGKILL. */
async function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/worker/src/main.ts'],
    { cwd: resolve(__dirname, '..'), env: { ...env, WORKER_PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited: ${stderr}`);
      return (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'the worker process to be ready' },
  );
  return child;
}

describe('crash safety: a worker killed with SIGKILL mid fan-out', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let worker: ChildProcess | null = null;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp, env: { ...FAST_DELIVERY_ENV } });
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await once(worker, 'exit');
    }
    await stack?.close();
    await receiver?.close();
  });

  it('loses nothing of a 2,000-delivery fan-out: every (event, client) is received at least once', async () => {
    const db = sql(stack);
    const admin = stack.client(await stack.serverToken('admin'));
    const clients = Array.from({ length: 50 }, (_, i) => `kill-${String(i).padStart(2, '0')}`);
    for (const id of clients) await registerClient(admin, receiver, id);
    for (const id of clients) receiver.setDefault(`/${id}/backchannel`, { status: 204, delayMs: 5 });
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      DATABASE_URL: stack.dbUrl,
      ...testRedisEnv(),
      QUEUE_PREFIX: stack.config.redis.prefix,
      IDENTITY_ISSUER: stack.identityUrl,
      API_PUBLIC_URL: stack.apiUrl,
      BACKCHANNEL_ALLOWED_HOSTS: '127.0.0.1',
      BOOTSTRAP_ADMIN_CLIENT_ID: TEST_ADMIN.clientId,
      BOOTSTRAP_ADMIN_CLIENT_SECRET: TEST_ADMIN.secret,
      DELIVERY_LEASE_SECONDS: '5',
      DELIVERY_CONCURRENCY: '16',
      ...FAST_DELIVERY_ENV,
    };
    worker = await spawnWorker(env);
    const logouts = stack.api!.get(LogoutService);
    const events = 40;
    for (let i = 0; i < events; i++) await logouts.record({ trigger: 'external', sub: `victim-${i}`, targetClientIds: clients });

    const subOf = (token: string | null) => (token ? claimsOf(token).sub : undefined);
    const received = () => new Set(receiver.requests.map((r) => `${r.path} ${subOf(r.logoutToken)}`));
    await waitFor(() => received().size >= 600, { timeoutMs: 60_000, what: 'a third of the deliveries' });
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    const atKill = received().size;
    expect(atKill).toBeLessThan(events * clients.length);
    const [{ claimed }] = await db<{ claimed: number }>(
      `SELECT count(*)::int AS claimed FROM deliveries WHERE status = 'delivering'`,
    );

    worker = await spawnWorker(env);
    await waitFor(() => received().size === events * clients.length, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'every (event, client) received',
    }).catch(async (err: Error) => {
      const states = await db(
        `SELECT status, attempts, count(*)::int AS n, min(lease_until) AS lease FROM deliveries GROUP BY 1, 2`,
      );
      throw new Error(`${err.message}; ${received().size} received; deliveries: ${JSON.stringify(states)}`);
    });
    await waitFor(
      async () => (await db<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE status <> 'delivered'`))[0].n === 0,
      { timeoutMs: 30_000, what: 'every delivery recorded as delivered' },
    );
    const duplicates = receiver.requests.length - events * clients.length;
    // Duplicates are the sends in flight (or sent, not yet recorded) when the worker died.
    process.stdout.write(
      `kill -9 mid fan-out: ${atKill} received before the kill, ${claimed} claimed by the dead worker, ${duplicates} duplicates of ${events * clients.length}\n`,
    );
    expect(duplicates).toBeLessThanOrEqual(claimed);
    expect(duplicates).toBeLessThanOrEqual(0.05 * events * clients.length);
  }, 180_000);
});
