import { ApiClient, apiClient, basicAuth, Receiver, TEST_ADMIN, TestStack, waitFor, waitForDelivery } from '@slo/testing';
import { DeliveriesStack, DeliveryView, startDeliveriesStack } from './support/deliveries';

describe('operator look-up of logout events and deliveries, metrics and the queue dashboard', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let anonymous: ApiClient;
  let secrets: DeliveriesStack['secrets'];
  let own: DeliveriesStack['own'];
  let emit: DeliveriesStack['emit'];
  let delivery: DeliveriesStack['delivery'];

  beforeAll(async () => {
    ({ stack, receiver, admin, emitter, anonymous, secrets, own, emit, delivery } = await startDeliveriesStack());
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

  it('exposes Prometheus metrics on the api and the worker', async () => {
    // One failure, and the next attempt seconds away: the breaker holds a failure count meanwhile.
    receiver.reply('/forum/backchannel', { status: 503, headers: { 'retry-after': '5' } });
    const { deliveries } = await emit('metrics', ['forum']);
    await waitFor(async () => (await delivery(deliveries[0].id)).attempts >= 1, { what: 'a failed attempt' });
    const apiMetrics = await anonymous.get<string>('/metrics', { expect: 200 });
    expect(apiMetrics).toMatch(/^slo_deliveries\{status="delivered"\} [1-9]\d*$/m);
    expect(apiMetrics).toMatch(/^slo_logout_events\{trigger="external"\} [1-9]\d*$/m);
    expect(apiMetrics).toMatch(/^slo_queue_jobs\{queue="delivery",state="waiting",shard="0"\} \d+$/m);
    expect(apiMetrics).toMatch(/^slo_queue_oldest_waiting_seconds\{queue="delivery",shard="0"\} [\d.]+$/m);
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
    // One delivery queue, or one per shard (`s<i>-delivery`) when the stack runs with DELIVERY_SHARDS > 1.
    const shards = stack.config.delivery.shards;
    const deliveryQueues = shards === 1 ? ['delivery'] : Array.from({ length: shards }, (_, i) => `s${i}-delivery`);
    expect(queues.queues.map((q) => q.name).sort()).toEqual([...deliveryQueues, 'retry-batch'].sort());
  });
});
