import { createApiApp } from '../../apps/api/src/api.app';
import { createIdentityApp } from '../../apps/identity/src/identity.app';
import { createWorkerApp } from '../../apps/worker/src/worker.app';
import { ApiClient, emitLogout, FAST_DELIVERY_ENV, Receiver, registerClient, startTestStack, TestStack } from '@slo/testing';

export interface DeliveryView {
  id: string;
  event_id: string;
  client_id: string;
  status: string;
  attempts: number;
}

/** What the operator delivery specs share: the stack and its receiver, clients on the api, helpers. */
export type DeliveriesStack = Awaited<ReturnType<typeof startDeliveriesStack>>;

/**
 * A receiver, then identity, api and worker with fast deliveries, two attempts and a breaker
 * that never opens; the clients `shop` and `forum` registered with back channels on the receiver.
 */
export async function startDeliveriesStack() {
  const receiver = await Receiver.start();
  let started: TestStack | undefined;
  try {
    const stack = (started = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: {
        ...FAST_DELIVERY_ENV,
        DELIVERY_MAX_ATTEMPTS: '2',
        BREAKER_FAILURE_THRESHOLD: '1000',
      },
    }));
    const admin = stack.client(await stack.serverToken('admin'));
    const emitter = stack.client(await stack.serverToken('logout:emit'));
    const secrets: Record<string, string> = {};
    /** Each client with a client:self token of its own. */
    const own: Record<string, ApiClient> = {};
    for (const id of ['shop', 'forum']) {
      const client = await registerClient(admin, receiver, id);
      secrets[id] = client.client_secret;
      own[id] = stack.client(await stack.serverToken('client:self', client));
    }
    return {
      stack,
      receiver,
      admin,
      emitter,
      anonymous: stack.client(),
      secrets,
      own,
      emit: (sub: string, targets: string[]) => emitLogout(emitter, { sub, target_clients: targets }),
      delivery: (id: string) => admin.get<DeliveryView>(`/v1/deliveries/${id}`, { expect: 200 }),
    };
  } catch (err) {
    await started?.close();
    await receiver.close();
    throw err;
  }
}
