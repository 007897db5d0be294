import { createApiApp } from '../../apps/api/src/api.app';
import { createIdentityApp } from '../../apps/identity/src/identity.app';
import { createWorkerApp } from '../../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import {
  emitLogout,
  FAST_DELIVERY_ENV,
  Receiver,
  registerClient,
  sql,
  startTestStack,
  TestStack,
  waitForDelivery,
} from '@slo/testing';
import { createRemoteJWKSet } from 'jose';

export const USER = { email: 'grace@example.com', password: 'correct horse battery' };

/** What the logout pipeline specs share: the stack and its receiver, clients on the api, SQL, identity's JWKS, helpers. */
export type PipelineStack = Awaited<ReturnType<typeof startPipelineStack>>;

/**
 * A receiver, then identity, api and worker with fast deliveries, six attempts of at most 1 s,
 * two sends at a time per endpoint and a breaker that opens after 3 failures for 1.5 s; USER created.
 */
export async function startPipelineStack() {
  const receiver = await Receiver.start();
  let started: TestStack | undefined;
  try {
    const stack = (started = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: {
        DELIVERY_TIMEOUT_MS: '1000',
        DELIVERY_MAX_ATTEMPTS: '6',
        ...FAST_DELIVERY_ENV,
        DELIVERY_ENDPOINT_CONCURRENCY: '2',
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_COOLDOWN_MS: '1500',
      },
    }));
    const db = sql(stack);
    await stack.identity.get(UsersService).create({ ...USER, name: 'Grace' });
    const admin = stack.client(await stack.serverToken('admin'));
    const emitter = stack.client(await stack.serverToken('logout:emit'));
    return {
      stack,
      receiver,
      admin,
      emitter,
      db,
      jwks: createRemoteJWKSet(new URL(`${stack.identityUrl}/jwks`)),
      /** A relying party whose back channel is `/<clientId>/backchannel` on the test receiver. */
      register: (clientId: string, extra: Record<string, unknown> = {}) => registerClient(admin, receiver, clientId, extra),
      emit: (body: unknown, opts: { headers?: Record<string, string>; expect?: number } = {}) => emitLogout(emitter, body, opts),
      delivered: async (id: string, timeoutMs?: number) => (await waitForDelivery(stack, id, 'delivered', { timeoutMs }))[0],
      attemptsOf: (id: string) =>
        db<{
          number: number;
          trigger: string;
          status_code: number | null;
          error_class: string | null;
          outcome: string;
          response_excerpt: string | null;
        }>('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number', [id]),
    };
  } catch (err) {
    await started?.close();
    await receiver.close();
    throw err;
  }
}
