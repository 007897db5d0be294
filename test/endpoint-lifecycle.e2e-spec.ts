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
} from '@slo/testing';

// Retention (months of deliveries dropped whole) is tested in delivery-partitions.e2e-spec.ts.
describe('endpoint lifecycle in the worker: auto-disable', () => {
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
        ENDPOINT_AUTO_DISABLE_AFTER_SECONDS: '3',
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
});
