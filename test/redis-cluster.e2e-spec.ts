import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { EndpointStateService } from '@slo/delivery';
import {
  apiClient,
  ApiClient,
  emitLogout,
  FAST_DELIVERY_ENV,
  Receiver,
  RedisCluster,
  registerClient,
  sql,
  Sql,
  startRedisCluster,
  startTestStack,
  TestStack,
  waitFor,
  waitForDelivery,
} from '@slo/testing';
import { Cluster } from 'ioredis';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { Webhook } from 'standardwebhooks';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * The pipeline on a Redis Cluster (3 masters started by scripts/redis-cluster.sh): identity, api
 * and worker with REDIS_CLUSTER_NODES. BullMQ's keys share the hash tag `{<prefix>}`, each
 * endpoint's guard keys the tag `{<client_id>}`.
 */
describe('on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let redis: Cluster;
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let db: Sql;
  let prefix: string;

  const register = (clientId: string, extra: Record<string, unknown> = {}) => registerClient(admin, receiver, clientId, extra);
  const emit = (sub: string, targets: string[]) => emitLogout(emitter, { sub, target_clients: targets });
  const keyslot = async (key: string) => Number(await redis.cluster('KEYSLOT', key));

  /** Every key of this stack, by the master that holds it. */
  async function keysByMaster(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const node of redis.nodes('master')) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
      out.set(`${node.options.host}:${node.options.port}`, keys);
    }
    return out;
  }

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = new Cluster(cluster.ports.map((port) => ({ host: '127.0.0.1', port })));
    redis.on('error', () => undefined); // while the cluster is stopped on purpose
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: {
        REDIS_CLUSTER_NODES: cluster.nodes,
        DELIVERY_TIMEOUT_MS: '1500',
        ...FAST_DELIVERY_ENV,
        DELIVERY_ENDPOINT_CONCURRENCY: '2',
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_COOLDOWN_MS: '1500',
        INGEST_MAX_EVENTS_PER_MINUTE: '40',
      },
    });
    prefix = stack.config.redis.prefix;
    db = sql(stack);
    admin = stack.client(await stack.serverToken('admin'));
    emitter = stack.client(await stack.serverToken('logout:emit'));
  });

  afterAll(async () => {
    try {
      await stack?.close();
      await receiver?.close();
      await redis?.quit();
    } finally {
      await cluster?.stop();
    }
  });

  it('is ready on identity, api and worker, Redis included', async () => {
    for (const url of [stack.identityUrl, stack.apiUrl, stack.workerUrl]) {
      const ready = await apiClient(url).get('/health/ready', { expect: 200 });
      expect(ready).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
    }
  });

  it('ingests a logout event and delivers it as a logout token and as a signed webhook', async () => {
    await register('rp-token');
    const hooks = await register('rp-hook', { delivery_format: 'webhook' });
    const { event_id, deliveries } = await emit('cluster-user', ['rp-token', 'rp-hook']);
    await waitForDelivery(
      stack,
      deliveries.map((d) => d.id),
      'delivered',
    );
    const [token] = receiver.received('/rp-token/backchannel');
    const jwks = createRemoteJWKSet(new URL(`${stack.identityUrl}/jwks`));
    const { payload } = await jwtVerify(token.logoutToken!, jwks, { issuer: stack.identityUrl, audience: 'rp-token' });
    expect(payload).toMatchObject({ sub: 'cluster-user', events: { [EVENT]: {} } });
    const [hook] = receiver.received('/rp-hook/backchannel');
    const body = new Webhook(hooks.webhook_secret as string).verify(hook.body, hook.headers as Record<string, string>);
    expect(body).toMatchObject({ type: 'session.logout', data: { client_id: 'rp-hook', sub: 'cluster-user', event_id } });
  });

  it('retries a 503 through a delayed job in the queue’s hash slot', async () => {
    await register('rp-flaky');
    receiver.reply('/rp-flaky/backchannel', { status: 503, headers: { 'retry-after': '2' } });
    const { deliveries } = await emit('flaky-user', ['rp-flaky']);
    await waitForDelivery(stack, deliveries[0].id, 'retrying');
    const delayed = `{${prefix}}:delivery:delayed`;
    const waiting = await waitFor(async () => {
      const ids = await redis.zrange(delayed, 0, -1);
      return ids.some((id) => id.startsWith(deliveries[0].id)) ? ids : null;
    });
    expect(waiting.length).toBeGreaterThan(0);
    await waitForDelivery(stack, deliveries[0].id, 'delivered', { timeoutMs: 20_000 });
    const attempts = await db<{ status_code: number; outcome: string }>(
      'SELECT status_code, outcome FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number',
      [deliveries[0].id],
    );
    expect(attempts).toEqual([
      { status_code: 503, outcome: 'retry' },
      { status_code: 204, outcome: 'delivered' },
    ]);
  });

  it('holds one endpoint to its concurrency limit', async () => {
    await register('rp-slow', { delivery_max_attempts: 1 });
    receiver.setDefault('/rp-slow/backchannel', { status: 204, delayMs: 500 });
    const events = await Promise.all(Array.from({ length: 6 }, (_, i) => emit(`slow-${i}`, ['rp-slow'])));
    await waitForDelivery(
      stack,
      events.map((e) => e.deliveries[0].id),
      'delivered',
      { timeoutMs: 20_000 },
    );
    expect(receiver.maxInFlight.get('/rp-slow/backchannel')).toBe(2);
  });

  it('opens the breaker of a failing endpoint, in that endpoint’s hash slot, and closes it once it answers', async () => {
    await register('rp-trip', { delivery_max_attempts: 50 });
    const path = '/rp-trip/backchannel';
    receiver.setDefault(path, { status: 503 });
    const events = await Promise.all(Array.from({ length: 4 }, (_, i) => emit(`trip-${i}`, ['rp-trip'])));
    await waitFor(async () => {
      const health = await admin.get<{ breaker: { state: string } }>('/v1/clients/rp-trip/health', { expect: 200 });
      return health.breaker.state === 'open';
    });
    const breaker = `${prefix}:endpoint:{rp-trip}:breaker`;
    expect(await redis.hget(breaker, 'open_until')).toMatch(/^\d+$/);
    expect(await keyslot(breaker)).toBe(await keyslot('rp-trip'));
    expect(Number(await redis.hget(`${prefix}:endpoints:failing`, 'rp-trip'))).toBeGreaterThan(0);
    const metrics = await fetch(`${stack.workerUrl}/metrics`).then((r) => r.text());
    expect(metrics).toContain('slo_endpoint_breaker_open{client_id="rp-trip"} 1');

    receiver.setDefault(path, { status: 204 });
    await waitForDelivery(
      stack,
      events.map((e) => e.deliveries[0].id),
      'delivered',
      { timeoutMs: 20_000 },
    );
    expect(await redis.exists(breaker)).toBe(0);
    expect(await redis.hget(`${prefix}:endpoints:failing`, 'rp-trip')).toBeNull();
  });

  it('counts the ingestion rate limit across the cluster', async () => {
    const c = await admin.post<{ client_id: string; client_secret: string }>('/v1/clients', {
      body: { client_name: 'Cluster emitter', grant_types: ['client_credentials'], server_scopes: ['logout:emit'] },
      expect: 201,
    });
    const own = admin.as(await stack.serverToken('logout:emit', c));
    for (let i = 0; i < 40; i++) await own.send('POST', '/v1/logout-events', { body: { sub: `rl-${i}` }, expect: 202 });
    const over = await own.send('POST', '/v1/logout-events', { body: { sub: 'rl-over' }, expect: 429 });
    expect(over.body).toMatchObject({ error: 'too_many_requests' });
    const keys = [...(await keysByMaster()).values()].flat();
    expect(keys.filter((k) => k.startsWith(`${prefix}:ratelimit:ingest-client:`)).length).toBeGreaterThan(0);
  });

  it('keeps every BullMQ key in the prefix’s slot and spreads endpoints over the masters by client id', async () => {
    // Three endpoints whose client ids hash to slots on three different masters.
    const owners = await redis.cluster('SLOTS');
    const masterOf = (slot: number) => {
      const [, , [host, port]] = owners.find(([from, to]) => slot >= from && slot <= to)!;
      return `${host}:${port}`;
    };
    const chosen = new Map<string, string>();
    for (let i = 0; chosen.size < 3; i++) {
      const master = masterOf(await keyslot(`spread-${i}`));
      if (!chosen.has(master)) chosen.set(master, `spread-${i}`);
    }
    const guard = stack.worker!.get(EndpointStateService).guard;
    for (const clientId of chosen.values()) await guard.record(clientId, true);

    const byMaster = await keysByMaster();
    const bullSlot = await keyslot(`{${prefix}}`);
    const all = [...byMaster.values()].flat();
    const bullKeys = all.filter((k) => k.startsWith(`{${prefix}}:`));
    expect(bullKeys.length).toBeGreaterThan(0);
    for (const key of bullKeys) expect({ key, slot: await keyslot(key) }).toEqual({ key, slot: bullSlot });
    for (const key of all.filter((k) => k.startsWith(`${prefix}:endpoint:`))) {
      const clientId = /^[^:]+:endpoint:\{([^}]+)\}:(breaker|slots)$/.exec(key)?.[1];
      expect({ key, slot: await keyslot(key) }).toEqual({ key, slot: await keyslot(clientId!) });
    }
    for (const [master, clientId] of chosen) {
      expect(byMaster.get(master)).toContain(`${prefix}:endpoint:{${clientId}}:breaker`);
    }
    expect([...byMaster.values()].filter((keys) => keys.length > 0).length).toBe(3);
  });

  it('answers /health/ready 503 naming redis while the cluster is stopped, and 200 once it runs again', async () => {
    await cluster.pause();
    for (const url of [stack.identityUrl, stack.apiUrl, stack.workerUrl]) {
      const ready = await waitFor(async () => {
        const r = await fetch(`${url}/health/ready`);
        return r.status === 503 ? r.json() : null;
      });
      expect(ready).toMatchObject({ status: 'error', unavailable: ['redis'], error: { redis: { status: 'down' } } });
    }
    await cluster.resume();
    for (const url of [stack.identityUrl, stack.apiUrl, stack.workerUrl]) {
      await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, { timeoutMs: 20_000 });
    }
    const { deliveries } = await emit('after-the-stop', ['rp-token']);
    await waitForDelivery(stack, deliveries[0].id, 'delivered', { timeoutMs: 20_000 });
  });
});
