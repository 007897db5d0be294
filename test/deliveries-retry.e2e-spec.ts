import { ApiClient, expectQuietFor, Receiver, TestStack, waitFor, waitForDelivery } from '@slo/testing';
import { DeliveriesStack, DeliveryView, startDeliveriesStack } from './support/deliveries';

describe('operator retries of deliveries: one now, endpoint recovery, bulk batches, and who may call what', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let anonymous: ApiClient;
  let own: DeliveriesStack['own'];
  let emit: DeliveriesStack['emit'];
  let delivery: DeliveriesStack['delivery'];

  beforeAll(async () => {
    ({ stack, receiver, admin, emitter, anonymous, own, emit, delivery } = await startDeliveriesStack());
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('retries one dead delivery now with a fresh token, recorded as manual; a delivered one only with force', async () => {
    receiver.setDefault('/shop/backchannel', { status: 503 });
    const { deliveries } = await emit('user-retry', ['shop']);
    const id = deliveries[0].id;
    await waitForDelivery(stack, id, 'dead');
    receiver.setDefault('/shop/backchannel', { status: 204 });

    const retried = await own.shop.post<{
      delivery: DeliveryView;
      attempt: { number: number; trigger: string; status_code: number };
    }>(`/v1/deliveries/${id}/retry`, { expect: 200 });
    expect(retried.delivery.status).toBe('delivered');
    expect(retried.attempt).toMatchObject({ number: 3, trigger: 'manual', status_code: 204 });
    const tokensSent = receiver
      .received('/shop/backchannel')
      .slice(-3)
      .map((r) => JSON.parse(Buffer.from(r.logoutToken!.split('.')[1], 'base64url').toString()).jti);
    expect(new Set(tokensSent).size).toBe(3);

    const again = await admin.post<{ message: string }>(`/v1/deliveries/${id}/retry`, { expect: 409 });
    expect(again.message).toMatch(/force=true/);
    const forced = await admin.post<{ attempt: { number: number } }>(`/v1/deliveries/${id}/retry?force=true`, { expect: 200 });
    expect(forced.attempt.number).toBe(4);
  });

  it('refuses a retry while an attempt is in flight', async () => {
    receiver.reply('/forum/backchannel', { status: 204, delayMs: 1500 });
    const { deliveries } = await emit('user-inflight', ['forum']);
    const id = deliveries[0].id;
    await waitForDelivery(stack, id, 'delivering');
    const res = await admin.post<{ message: string }>(`/v1/deliveries/${id}/retry`, { expect: 409 });
    expect(res.message).toMatch(/in flight/);
    await waitForDelivery(stack, id, 'delivered');
  });

  describe('endpoint health, disable, enable and recover', () => {
    it('reports the last hour, counts and breaker state; a client sees only its own', async () => {
      const health = await admin.get<{
        endpoint_status: string;
        last_hour: { attempts: number; delivered: number; success_rate: number; p50_ms: number };
        last_success_at: string;
        pending: number;
        dead: number;
        breaker: { state: string };
      }>('/v1/clients/shop/health', { expect: 200 });
      expect(health.endpoint_status).toBe('active');
      expect(health.last_hour.attempts).toBeGreaterThanOrEqual(4);
      expect(health.last_hour.success_rate).toBeGreaterThan(0);
      expect(health.last_hour.success_rate).toBeLessThan(1);
      expect(typeof health.last_hour.p50_ms).toBe('number');
      expect(health.last_success_at).not.toBeNull();
      expect(health.breaker.state).toBe('closed');
      await own.shop.get('/v1/clients/me/health', { expect: 200 });
      await own.shop.get('/v1/clients/forum/health', { expect: 404 });
      await own.shop.post('/v1/clients/shop/disable', { body: {}, expect: 403 });
    });

    it('disabling keeps new logouts as skipped; enabling with recover_since sends them', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const disabled = await admin.post('/v1/clients/forum/disable', { body: { reason: 'maintenance window' }, expect: 200 });
      expect(disabled).toMatchObject({
        endpoint_status: 'disabled',
        endpoint_status_reason: 'disabled by test-admin: maintenance window',
      });
      const { deliveries } = await emit('while-disabled', ['forum']);
      expect(deliveries[0]).toMatchObject({ status: 'skipped' });
      const before = receiver.received('/forum/backchannel').length;

      const enabled = await admin.post('/v1/clients/forum/enable', { body: { recover_since: since }, expect: 200 });
      expect(enabled).toMatchObject({ endpoint_status: 'active', recovered: 1 });
      await waitForDelivery(stack, deliveries[0].id, 'delivered');
      expect(receiver.received('/forum/backchannel').length).toBe(before + 1);
    });

    it('recovers exactly the deliveries that did not succeed in the window', async () => {
      const since = new Date().toISOString();
      receiver.setDefault('/shop/backchannel', { status: 500 });
      const failed = await emit('missed-1', ['shop']);
      await waitForDelivery(stack, failed.deliveries[0].id, 'dead');
      receiver.setDefault('/shop/backchannel', { status: 204 });
      const ok = await emit('fine', ['shop']);
      await waitForDelivery(stack, ok.deliveries[0].id, 'delivered');
      const count = receiver.received('/shop/backchannel').length;

      const res = await own.shop.post<{ recovered: number }>('/v1/clients/me/recover', { body: { since }, expect: 202 });
      expect(res.recovered).toBe(1);
      await waitForDelivery(stack, failed.deliveries[0].id, 'delivered');
      expect(receiver.received('/shop/backchannel').length).toBe(count + 1);

      await admin.post('/v1/clients/shop/recover', { body: { since: '2020-01-01T00:00:00Z' }, expect: 400 });
      await admin.post('/v1/clients/shop/recover', { body: { since: 'soon' }, expect: 400 });
      await own.shop.post('/v1/clients/forum/recover', { body: { since }, expect: 404 });
    });
  });

  describe('bulk retry batches', () => {
    interface Batch {
      id: string;
      state: string;
      total: number;
      done: number;
      succeeded: number;
      failed: number;
    }
    const batch = (id: string, viewer = admin) => viewer.get<Batch>(`/v1/retries/${id}`, { expect: 200 });

    async function deadDeliveries(clientId: string, count: number) {
      receiver.setDefault(`/${clientId}/backchannel`, { status: 500 });
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await emit(`bulk-${clientId}-${i}`, [clientId])).deliveries[0].id);
      await waitForDelivery(stack, ids, 'dead');
      return ids;
    }

    it('re-sends what went dead once the receiver is fixed, with correct progress counts', async () => {
      const since = new Date().toISOString();
      const ids = await deadDeliveries('shop', 3);
      receiver.setDefault('/shop/backchannel', { status: 204 });
      const created = await admin.post<Batch>('/v1/retries', {
        body: { client_id: 'shop', statuses: ['dead'], since },
        expect: 202,
      });
      expect(created).toMatchObject({ total: 3 });
      const finished = await waitFor(async () => ((await batch(created.id)).state === 'done' ? batch(created.id) : null), {
        what: 'the batch to finish',
      });
      expect(finished).toMatchObject({ state: 'done', total: 3, done: 3, succeeded: 3, failed: 0 });
      for (const id of ids) expect((await delivery(id)).status).toBe('delivered');
      expect((await batch(created.id, own.shop)).id).toBe(created.id);
      await own.forum.get(`/v1/retries/${created.id}`, { expect: 404 });
    });

    it('allows one active batch per client, can be cancelled, and does not hold up fresh logouts', async () => {
      const since = new Date().toISOString();
      await deadDeliveries('forum', 6);
      receiver.setDefault('/forum/backchannel', { status: 204, delayMs: 800 });
      const running = await own.forum.post<Batch>('/v1/retries', { body: { since }, expect: 202 });
      expect(running.total).toBe(6);
      await admin.post('/v1/retries', { body: { client_id: 'forum', since }, expect: 409 });

      // Not held up: the fresh logout is delivered while the batch (six slow sends) still runs.
      const fresh = await emit('fresh-during-batch', ['shop']);
      await waitForDelivery(stack, fresh.deliveries[0].id, 'delivered');
      expect((await batch(running.id)).done).toBeLessThan(6);

      const cancelled = await admin.delete<Batch>(`/v1/retries/${running.id}`, { expect: 200 });
      expect(cancelled.state).toBe('cancelled');
      await expectQuietFor(1000, async () => {
        const now = await batch(running.id);
        return now.state !== 'cancelled' || now.done >= 6 ? now : null;
      });
      const after = await batch(running.id);
      expect(after.state).toBe('cancelled');
      expect(after.done).toBeLessThan(6);
      receiver.setDefault('/forum/backchannel', { status: 204 });
    });

    it('refuses batches beyond the caps or for another client', async () => {
      const old = '2020-01-01T00:00:00Z';
      await admin.post('/v1/retries', { body: { since: old }, expect: 400 });
      await admin.post('/v1/retries', { body: { since: new Date().toISOString(), statuses: ['delivered'] }, expect: 400 });
      await own.shop.post('/v1/retries', { body: { client_id: 'forum', since: new Date().toISOString() }, expect: 404 });
      await emitter.post('/v1/retries', { body: { since: new Date().toISOString() }, expect: 403 });
    });
  });

  it('answers every operator endpoint: 401 without a token, 404 for another client’s resources, 200 for its own and for admins', async () => {
    const { event_id, deliveries } = await emit('matrix', ['forum']);
    const id = deliveries[0].id;
    await waitForDelivery(stack, id, 'delivered');
    const since = new Date(Date.now() - 60_000).toISOString();
    const batch = (await own.forum.post<{ id: string }>('/v1/retries', { body: { since }, expect: 202 })).id;
    const routes: [string, string, unknown?][] = [
      ['GET', `/v1/logout-events/${event_id}`],
      ['GET', `/v1/deliveries/${id}`],
      ['GET', `/v1/deliveries/${id}/attempts`],
      ['POST', `/v1/deliveries/${id}/retry?force=true`],
      ['GET', '/v1/clients/forum/health'],
      ['POST', '/v1/clients/forum/recover', { since }],
      ['GET', `/v1/retries/${batch}`],
    ];
    // A wrong status fails naming the method and path.
    for (const [method, path, body] of routes) {
      const ok = path.includes('recover') ? 202 : 200;
      await anonymous.send(method, path, { body, expect: 401 });
      await own.shop.send(method, path, { body, expect: 404 });
      await own.forum.send(method, path, { body, expect: ok });
      await admin.send(method, path, { body, expect: ok });
    }
    for (const path of ['/v1/clients/forum/disable', '/v1/clients/forum/enable', '/v1/keys/rotate']) {
      await own.forum.post(path, { body: {}, expect: 403 });
      await anonymous.post(path, { body: {}, expect: 401 });
    }
    await own.forum.get('/v1/keys', { expect: 403 });
  });
});
