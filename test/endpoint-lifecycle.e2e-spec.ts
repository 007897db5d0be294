import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { Receiver, startTestStack, TestStack, waitFor, withPg, FAST_DELIVERY_ENV } from '@slo/testing';

describe('endpoint lifecycle in the worker: auto-disable and retention', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: string;
  let emitter: string;

  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withPg(stack.dbUrl, (c) => c.query(text, params)).then((r) => r.rows as T[]);
  const post = (path: string, body: unknown, token: string) =>
    fetch(`${stack.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: {
        ...FAST_DELIVERY_ENV,
        DELIVERY_BACKOFF_BASE_MS: '100',
        DELIVERY_BACKOFF_MAX_MS: '300',
        BREAKER_FAILURE_THRESHOLD: '1000',
        PURGE_INTERVAL_SECONDS: '5',
        ENDPOINT_AUTO_DISABLE_AFTER_SECONDS: '3',
        DELIVERY_RETENTION_DAYS: '1',
      },
    });
    await stack.start(createWorkerApp);
    admin = await stack.serverToken('admin');
    emitter = await stack.serverToken('logout:emit');
    for (const id of ['failing', 'healthy']) {
      const res = await post(
        '/v1/clients',
        { client_id: id, client_name: id, backchannel_logout_uri: `${receiver.url}/${id}` },
        admin,
      );
      expect(res.status).toBe(201);
    }
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('disables an endpoint that delivered nothing for the configured time while it kept failing, with the reason', async () => {
    receiver.setDefault('/failing', { status: 503 });
    expect((await post('/v1/logout-events', { sub: 'u1', target_clients: ['failing', 'healthy'] }, emitter)).status).toBe(202);
    const client = await waitFor(
      async () => {
        const [row] = await sql<{ endpoint_status: string; endpoint_status_reason: string }>(
          "SELECT endpoint_status, endpoint_status_reason FROM clients WHERE client_id = 'failing'",
        );
        return row.endpoint_status === 'disabled' ? row : null;
      },
      { timeoutMs: 20_000, what: 'the failing endpoint to be disabled' },
    );
    expect(client!.endpoint_status_reason).toMatch(/auto-disabled: nothing delivered for 3 s/);
    const [healthy] = await sql<{ endpoint_status: string }>("SELECT endpoint_status FROM clients WHERE client_id = 'healthy'");
    expect(healthy.endpoint_status).toBe('active');
  });

  it('prunes delivered deliveries past the retention age, with their attempts, and keeps the rest', async () => {
    const res = await post('/v1/logout-events', { sub: 'u2', target_clients: ['healthy'] }, emitter);
    const { event_id, deliveries } = (await res.json()) as { event_id: string; deliveries: { id: string }[] };
    await waitFor(
      async () => (await sql("SELECT 1 FROM deliveries WHERE id = $1 AND status = 'delivered'", [deliveries[0].id])).length === 1,
      {
        what: 'delivered',
      },
    );
    const fresh = await sql<{ id: string }>("SELECT id FROM deliveries WHERE status = 'delivered' AND id <> $1", [
      deliveries[0].id,
    ]);
    await sql("UPDATE deliveries SET delivered_at = now() - interval '2 days' WHERE id = $1", [deliveries[0].id]);
    await waitFor(async () => (await sql('SELECT 1 FROM deliveries WHERE id = $1', [deliveries[0].id])).length === 0, {
      timeoutMs: 20_000,
      what: 'the old delivery to be pruned',
    });
    expect(await sql('SELECT 1 FROM delivery_attempts WHERE delivery_id = $1', [deliveries[0].id])).toHaveLength(0);
    expect(await sql('SELECT 1 FROM deliveries WHERE id = ANY($1)', [fresh.map((f) => f.id)])).toHaveLength(fresh.length);
    // The event is young: it stays although its last delivery went.
    expect(await sql('SELECT 1 FROM logout_events WHERE id = $1', [event_id])).toHaveLength(1);
  });
});
