import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import {
  ApiClient,
  apiClient,
  basicAuth,
  emitLogout,
  expectQuietFor,
  FAST_DELIVERY_ENV,
  Receiver,
  registerClient,
  startTestStack,
  TEST_ADMIN,
  TestStack,
  waitFor,
  waitForDelivery,
} from '@slo/testing';

interface DeliveryView {
  id: string;
  event_id: string;
  client_id: string;
  status: string;
  attempts: number;
}

describe('operator look-up and single retry of deliveries', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let anonymous: ApiClient;
  const secrets: Record<string, string> = {};
  /** Each client with a client:self token of its own. */
  const own: Record<string, ApiClient> = {};

  const emit = (sub: string, targets: string[]) => emitLogout(emitter, { sub, target_clients: targets });
  const delivery = (id: string) => admin.get<DeliveryView>(`/v1/deliveries/${id}`, { expect: 200 });

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: {
        ...FAST_DELIVERY_ENV,
        DELIVERY_MAX_ATTEMPTS: '2',
        BREAKER_FAILURE_THRESHOLD: '1000',
      },
    });
    admin = stack.client(await stack.serverToken('admin'));
    emitter = stack.client(await stack.serverToken('logout:emit'));
    anonymous = stack.client();
    for (const id of ['shop', 'forum']) {
      const client = await registerClient(admin, receiver, id);
      secrets[id] = client.client_secret;
      own[id] = stack.client(await stack.serverToken('client:self', client));
    }
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('shows an event with its deliveries to admins; a client sees only its own, and other clients’ things are 404', async () => {
    const { event_id, deliveries } = await emit('user-1', ['shop', 'forum']);
    await waitForDelivery(
      stack,
      deliveries.map((d) => d.id),
      'delivered',
    );
    const full = await admin.get<{ trigger: string; deliveries: DeliveryView[] }>(`/v1/logout-events/${event_id}`, {
      expect: 200,
    });
    expect(full.trigger).toBe('external');
    expect(full.deliveries.map((d) => [d.client_id, d.status])).toEqual([
      ['forum', 'delivered'],
      ['shop', 'delivered'],
    ]);
    const mine = await own.shop.get<{ deliveries: DeliveryView[] }>(`/v1/logout-events/${event_id}`, { expect: 200 });
    expect(mine.deliveries.map((d) => d.client_id)).toEqual(['shop']);

    const forumDelivery = deliveries.find((d) => d.client_id === 'forum')!.id;
    await own.shop.get(`/v1/deliveries/${forumDelivery}`, { expect: 404 });
    await own.shop.get(`/v1/deliveries/${forumDelivery}/attempts`, { expect: 404 });
    await own.shop.post(`/v1/deliveries/${forumDelivery}/retry`, { expect: 404 });
    await own.forum.get(`/v1/deliveries/${forumDelivery}`, { expect: 200 });

    const listed = await own.shop.get<{ data: DeliveryView[] }>('/v1/deliveries?client_id=forum', { expect: 200 });
    expect(listed.data.every((d) => d.client_id === 'shop')).toBe(true);

    for (const path of [
      '/v1/logout-events',
      `/v1/logout-events/${event_id}`,
      '/v1/deliveries',
      `/v1/deliveries/${forumDelivery}/attempts`,
    ]) {
      await anonymous.get(path, { expect: 401 });
      await emitter.get(path, { expect: 403 });
    }
    const attempts = await admin.get<{ data: { number: number; trigger: string; status_code: number }[] }>(
      `/v1/deliveries/${forumDelivery}/attempts`,
      { expect: 200 },
    );
    expect(attempts.data).toMatchObject([{ number: 1, trigger: 'scheduled', status_code: 204 }]);
  });

  it('filters events and deliveries', async () => {
    const a = await emit('filter-me', ['shop']);
    await emit('someone-else', ['shop']);
    const bySub = await admin.get<{ data: { id: string; sub: string }[] }>('/v1/logout-events?sub=filter-me', { expect: 200 });
    expect(bySub.data.map((e) => e.id)).toEqual([a.event_id]);
    const byEvent = await admin.get<{ data: DeliveryView[] }>(`/v1/deliveries?event_id=${a.event_id}`, { expect: 200 });
    expect(byEvent.data.map((d) => d.id)).toEqual([a.deliveries[0].id]);
    const future = await admin.get<{ data: unknown[] }>('/v1/logout-events?since=2100-01-01T00:00:00Z', { expect: 200 });
    expect(future.data).toEqual([]);
    for (const bad of ['?status=lost', '?limit=0', '?limit=1000', '?since=yesterday', '?cursor=bogus', '?event_id=42']) {
      await admin.get(`/v1/deliveries${bad}`, { expect: 400 });
    }
  });

  it('keeps pages stable while new events arrive', async () => {
    for (let i = 0; i < 5; i++) await emit(`page-${i}`, ['forum']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let first = true;
    do {
      const page: { data: { id: string }[]; next_cursor: string | null } = await admin.get(
        `/v1/logout-events?client_id=forum&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { expect: 200 },
      );
      seen.push(...page.data.map((e) => e.id));
      if (first) await emit('arrives-during-paging', ['forum']);
      first = false;
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const all = await admin.get<{ data: { id: string }[] }>('/v1/logout-events?client_id=forum&limit=200', { expect: 200 });
    // Everything but the event that arrived after the first page was seen, in order.
    expect(seen).toEqual(all.data.slice(1).map((e) => e.id));
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

  it('exposes Prometheus metrics on the api and the worker', async () => {
    // One failure, and the next attempt seconds away: the breaker holds a failure count meanwhile.
    receiver.reply('/forum/backchannel', { status: 503, headers: { 'retry-after': '5' } });
    const { deliveries } = await emit('metrics', ['forum']);
    await waitFor(async () => (await delivery(deliveries[0].id)).attempts >= 1, { what: 'a failed attempt' });
    const apiMetrics = await anonymous.get<string>('/metrics', { expect: 200 });
    expect(apiMetrics).toMatch(/^slo_deliveries\{status="delivered"\} [1-9]\d*$/m);
    expect(apiMetrics).toMatch(/^slo_logout_events\{trigger="external"\} [1-9]\d*$/m);
    expect(apiMetrics).toMatch(/^slo_queue_jobs\{queue="delivery",state="waiting"\} \d+$/m);
    expect(apiMetrics).toMatch(/^slo_queue_oldest_waiting_seconds\{queue="delivery"\} [\d.]+$/m);
    expect(apiMetrics).toMatch(/^slo_endpoint_breaker_open\{client_id="forum"\} [01]$/m);
    const workerMetrics = await apiClient(stack.workerUrl).get<string>('/metrics', { expect: 200 });
    expect(workerMetrics).toMatch(/^slo_delivery_attempts_total\{outcome="delivered"\} [1-9]\d*$/m);
    expect(workerMetrics).toMatch(/^slo_delivery_attempt_duration_seconds_bucket\{le="0.5",outcome="delivered"\} [1-9]\d*$/m);
    expect(workerMetrics).toMatch(/^slo_process_cpu_seconds_total /m);
  });

  it('serves the queue dashboard to admin client credentials only', async () => {
    const refused = await anonymous.send('GET', '/admin/queues', { expect: 401 });
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);
    const basic = (clientId: string, secret: string) => ({ authorization: basicAuth({ clientId, secret }) });
    await anonymous.get('/admin/queues', { headers: basic('test-admin', 'wrong'), expect: 401 });
    await anonymous.get('/admin/queues', { headers: basic('shop', secrets.shop), expect: 403 });
    const auth = basic(TEST_ADMIN.clientId, TEST_ADMIN.secret);
    expect(await anonymous.get<string>('/admin/queues', { headers: auth, expect: 200 })).toContain('<div id="root">');
    const queues = await anonymous.get<{ queues: { name: string }[] }>('/admin/queues/api/queues', {
      headers: auth,
      expect: 200,
    });
    expect(queues.queues.map((q) => q.name).sort()).toEqual(['delivery', 'retry-batch']);
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
