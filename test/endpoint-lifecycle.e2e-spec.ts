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
} from '@slo/testing';

describe('endpoint lifecycle in the worker: auto-disable and retention', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let emitter: ApiClient;
  let db: Sql;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
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
    db = sql(stack);
    const admin = stack.client(await stack.serverToken('admin'));
    emitter = stack.client(await stack.serverToken('logout:emit'));
    for (const id of ['failing', 'healthy']) await registerClient(admin, receiver, id);
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('disables an endpoint that delivered nothing for the configured time while it kept failing, with the reason', async () => {
    receiver.setDefault('/failing/backchannel', { status: 503 });
    await emitLogout(emitter, { sub: 'u1', target_clients: ['failing', 'healthy'] });
    const client = await waitFor(
      async () => {
        const [row] = await db<{ endpoint_status: string; endpoint_status_reason: string }>(
          "SELECT endpoint_status, endpoint_status_reason FROM clients WHERE client_id = 'failing'",
        );
        return row.endpoint_status === 'disabled' ? row : null;
      },
      { timeoutMs: 20_000, what: 'the failing endpoint to be disabled' },
    );
    expect(client.endpoint_status_reason).toMatch(/auto-disabled: nothing delivered for 3 s/);
    const [healthy] = await db<{ endpoint_status: string }>("SELECT endpoint_status FROM clients WHERE client_id = 'healthy'");
    expect(healthy.endpoint_status).toBe('active');
  });

  it('prunes delivered deliveries past the retention age, with their attempts, and keeps the rest', async () => {
    const { event_id, deliveries } = await emitLogout(emitter, { sub: 'u2', target_clients: ['healthy'] });
    const id = deliveries[0].id;
    await waitForDelivery(stack, id, 'delivered');
    const fresh = await db<{ id: string }>("SELECT id FROM deliveries WHERE status = 'delivered' AND id <> $1", [id]);
    await db("UPDATE deliveries SET delivered_at = now() - interval '2 days' WHERE id = $1", [id]);
    await waitFor(async () => (await db('SELECT 1 FROM deliveries WHERE id = $1', [id])).length === 0, {
      timeoutMs: 20_000,
      what: 'the old delivery to be pruned',
    });
    expect(await db('SELECT 1 FROM delivery_attempts WHERE delivery_id = $1', [id])).toHaveLength(0);
    expect(await db('SELECT 1 FROM deliveries WHERE id = ANY($1)', [fresh.map((f) => f.id)])).toHaveLength(fresh.length);
    // The event is young: it stays although its last delivery went.
    expect(await db('SELECT 1 FROM logout_events WHERE id = $1', [event_id])).toHaveLength(1);
  });
});
