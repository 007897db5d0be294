import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { emitLogout, Receiver, registerClient, sql, startTestStack, TestStack } from '@slo/testing';

/** deliveries_pYYYYMM of the current month (UTC), as create_delivery_partitions names it. */
const thisMonth = () => new Date().toISOString().slice(0, 7).replace('-', '');

describe('a logout in a month whose partition is missing (the worker was down for months)', () => {
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.start();
    // No worker: nothing makes partitions ahead while the test runs.
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('is recorded all the same: the month is made on the spot, the event and its delivery written', async () => {
    const db = sql(stack);
    const admin = stack.client(await stack.serverToken('admin'));
    const emitter = stack.client(await stack.serverToken('logout:emit'));
    await registerClient(admin, receiver, 'late');
    for (const table of ['delivery_attempts', 'deliveries']) {
      await db(`ALTER TABLE ${table} DETACH PARTITION ${table}_p${thisMonth()}`);
      await db(`DROP TABLE ${table}_p${thisMonth()}`);
    }

    const { event_id, deliveries } = await emitLogout(emitter, { sub: 'u-late', target_clients: ['late'] });

    expect(deliveries).toHaveLength(1);
    const rows = await db<{ event_id: string; partition: string }>(
      `SELECT event_id, tableoid::regclass::text AS partition FROM deliveries WHERE id = $1`,
      [deliveries[0].id],
    );
    expect(rows).toEqual([{ event_id, partition: `deliveries_p${thisMonth()}` }]);
    const attempts = await db(`SELECT to_regclass($1) AS t`, [`delivery_attempts_p${thisMonth()}`]);
    expect(attempts[0].t).toBe(`delivery_attempts_p${thisMonth()}`);
  });
});
