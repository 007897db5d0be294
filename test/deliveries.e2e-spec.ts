import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { Receiver, startTestStack, TEST_ADMIN, TestStack, waitFor, FAST_DELIVERY_ENV } from '@slo/testing';

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
  let admin: string;
  let emitter: string;
  let workerUrl: string;
  const secrets: Record<string, string> = {};
  const tokens: Record<string, string> = {};

  const call = (method: string, path: string, token?: string) =>
    fetch(`${stack.apiUrl}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const json = async <T>(res: Response, status = 200): Promise<T> => {
    const body = (await res.json()) as T;
    expect({ status: res.status, body }).toMatchObject({ status });
    return body;
  };

  async function emit(sub: string, targets: string[]) {
    const res = await fetch(`${stack.apiUrl}/v1/logout-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emitter}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sub, target_clients: targets }),
    });
    return json<{ event_id: string; deliveries: { id: string; client_id: string }[] }>(res, 202);
  }

  const delivery = (id: string) => call('GET', `/v1/deliveries/${id}`, admin).then((r) => r.json() as Promise<DeliveryView>);
  const waitForStatus = (id: string, status: string) =>
    waitFor(async () => ((await delivery(id)).status === status ? delivery(id) : null), { what: `${id} ${status}` });

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: {
        ...FAST_DELIVERY_ENV,
        DELIVERY_MAX_ATTEMPTS: '2',
        BREAKER_FAILURE_THRESHOLD: '1000',
      },
    });
    workerUrl = (await stack.start(createWorkerApp)).url;
    admin = await stack.serverToken('admin');
    emitter = await stack.serverToken('logout:emit');
    for (const id of ['shop', 'forum']) {
      const res = await fetch(`${stack.apiUrl}/v1/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: id, client_name: id, backchannel_logout_uri: `${receiver.url}/${id}` }),
      });
      secrets[id] = (await json<{ client_secret: string }>(res, 201)).client_secret;
      tokens[id] = await stack.serverToken('client:self', { clientId: id, secret: secrets[id] });
    }
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('shows an event with its deliveries to admins; a client sees only its own, and other clients’ things are 404', async () => {
    const { event_id, deliveries } = await emit('user-1', ['shop', 'forum']);
    for (const d of deliveries) await waitForStatus(d.id, 'delivered');
    const full = await json<{ trigger: string; deliveries: DeliveryView[] }>(
      await call('GET', `/v1/logout-events/${event_id}`, admin),
    );
    expect(full.trigger).toBe('external');
    expect(full.deliveries.map((d) => [d.client_id, d.status])).toEqual([
      ['forum', 'delivered'],
      ['shop', 'delivered'],
    ]);
    const own = await json<{ deliveries: DeliveryView[] }>(await call('GET', `/v1/logout-events/${event_id}`, tokens.shop));
    expect(own.deliveries.map((d) => d.client_id)).toEqual(['shop']);

    const forumDelivery = deliveries.find((d) => d.client_id === 'forum')!.id;
    expect((await call('GET', `/v1/deliveries/${forumDelivery}`, tokens.shop)).status).toBe(404);
    expect((await call('GET', `/v1/deliveries/${forumDelivery}/attempts`, tokens.shop)).status).toBe(404);
    expect((await call('POST', `/v1/deliveries/${forumDelivery}/retry`, tokens.shop)).status).toBe(404);
    expect((await call('GET', `/v1/deliveries/${forumDelivery}`, tokens.forum)).status).toBe(200);

    const listed = await json<{ data: DeliveryView[] }>(await call('GET', '/v1/deliveries?client_id=forum', tokens.shop));
    expect(listed.data.every((d) => d.client_id === 'shop')).toBe(true);

    for (const path of [
      '/v1/logout-events',
      `/v1/logout-events/${event_id}`,
      '/v1/deliveries',
      `/v1/deliveries/${forumDelivery}/attempts`,
    ]) {
      expect((await call('GET', path)).status).toBe(401);
      expect((await call('GET', path, emitter)).status).toBe(403);
    }
    const attempts = await json<{ data: { number: number; trigger: string; status_code: number }[] }>(
      await call('GET', `/v1/deliveries/${forumDelivery}/attempts`, admin),
    );
    expect(attempts.data).toMatchObject([{ number: 1, trigger: 'scheduled', status_code: 204 }]);
  });

  it('filters events and deliveries', async () => {
    const a = await emit('filter-me', ['shop']);
    await emit('someone-else', ['shop']);
    const bySub = await json<{ data: { id: string; sub: string }[] }>(
      await call('GET', '/v1/logout-events?sub=filter-me', admin),
    );
    expect(bySub.data.map((e) => e.id)).toEqual([a.event_id]);
    const byEvent = await json<{ data: DeliveryView[] }>(await call('GET', `/v1/deliveries?event_id=${a.event_id}`, admin));
    expect(byEvent.data.map((d) => d.id)).toEqual([a.deliveries[0].id]);
    const future = await json<{ data: unknown[] }>(await call('GET', '/v1/logout-events?since=2100-01-01T00:00:00Z', admin));
    expect(future.data).toEqual([]);
    for (const bad of ['?status=lost', '?limit=0', '?limit=1000', '?since=yesterday', '?cursor=bogus', '?event_id=42']) {
      expect((await call('GET', `/v1/deliveries${bad}`, admin)).status).toBe(400);
    }
  });

  it('keeps pages stable while new events arrive', async () => {
    for (let i = 0; i < 5; i++) await emit(`page-${i}`, ['forum']);
    const seen: string[] = [];
    let cursor: string | null = null;
    let first = true;
    do {
      const page: { data: { id: string }[]; next_cursor: string | null } = await json(
        await call('GET', `/v1/logout-events?client_id=forum&limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin),
      );
      seen.push(...page.data.map((e) => e.id));
      if (first) await emit('arrives-during-paging', ['forum']);
      first = false;
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const all = await json<{ data: { id: string }[] }>(await call('GET', '/v1/logout-events?client_id=forum&limit=200', admin));
    // Everything but the event that arrived after the first page was seen, in order.
    expect(seen).toEqual(all.data.slice(1).map((e) => e.id));
  });

  it('retries one dead delivery now with a fresh token, recorded as manual; a delivered one only with force', async () => {
    receiver.setDefault('/shop', { status: 503 });
    const { deliveries } = await emit('user-retry', ['shop']);
    const id = deliveries[0].id;
    await waitForStatus(id, 'dead');
    receiver.setDefault('/shop', { status: 204 });

    const retried = await json<{ delivery: DeliveryView; attempt: { number: number; trigger: string; status_code: number } }>(
      await call('POST', `/v1/deliveries/${id}/retry`, tokens.shop),
    );
    expect(retried.delivery.status).toBe('delivered');
    expect(retried.attempt).toMatchObject({ number: 3, trigger: 'manual', status_code: 204 });
    const tokensSent = receiver
      .received('/shop')
      .slice(-3)
      .map((r) => JSON.parse(Buffer.from(r.logoutToken!.split('.')[1], 'base64url').toString()).jti);
    expect(new Set(tokensSent).size).toBe(3);

    const again = await call('POST', `/v1/deliveries/${id}/retry`, admin);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { message: string }).message).toMatch(/force=true/);
    const forced = await json<{ attempt: { number: number } }>(
      await call('POST', `/v1/deliveries/${id}/retry?force=true`, admin),
    );
    expect(forced.attempt.number).toBe(4);
  });

  it('refuses a retry while an attempt is in flight', async () => {
    receiver.reply('/forum', { status: 204, delayMs: 1500 });
    const { deliveries } = await emit('user-inflight', ['forum']);
    const id = deliveries[0].id;
    await waitForStatus(id, 'delivering');
    const res = await call('POST', `/v1/deliveries/${id}/retry`, admin);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { message: string }).message).toMatch(/in flight/);
    await waitForStatus(id, 'delivered');
  });

  describe('endpoint health, disable, enable and recover', () => {
    const post = (path: string, body: unknown, token = admin) =>
      fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('reports the last hour, counts and breaker state; a client sees only its own', async () => {
      const health = await json<{
        endpoint_status: string;
        last_hour: { attempts: number; delivered: number; success_rate: number; p50_ms: number };
        last_success_at: string;
        pending: number;
        dead: number;
        breaker: { state: string };
      }>(await call('GET', '/v1/clients/shop/health', admin));
      expect(health.endpoint_status).toBe('active');
      expect(health.last_hour.attempts).toBeGreaterThanOrEqual(4);
      expect(health.last_hour.success_rate).toBeGreaterThan(0);
      expect(health.last_hour.success_rate).toBeLessThan(1);
      expect(typeof health.last_hour.p50_ms).toBe('number');
      expect(health.last_success_at).not.toBeNull();
      expect(health.breaker.state).toBe('closed');
      expect((await call('GET', '/v1/clients/me/health', tokens.shop)).status).toBe(200);
      expect((await call('GET', '/v1/clients/forum/health', tokens.shop)).status).toBe(404);
      expect((await post('/v1/clients/shop/disable', {}, tokens.shop)).status).toBe(403);
    });

    it('disabling keeps new logouts as skipped; enabling with recover_since sends them', async () => {
      const since = new Date(Date.now() - 1000).toISOString();
      const disabled = await json<{ endpoint_status: string; endpoint_status_reason: string }>(
        await post('/v1/clients/forum/disable', { reason: 'maintenance window' }),
      );
      expect(disabled).toMatchObject({
        endpoint_status: 'disabled',
        endpoint_status_reason: 'disabled by test-admin: maintenance window',
      });
      const { deliveries } = await emit('while-disabled', ['forum']);
      expect(deliveries[0]).toMatchObject({ status: 'skipped' });
      const before = receiver.received('/forum').length;

      const enabled = await json<{ endpoint_status: string; recovered: number }>(
        await post('/v1/clients/forum/enable', { recover_since: since }),
      );
      expect(enabled).toMatchObject({ endpoint_status: 'active', recovered: 1 });
      await waitForStatus(deliveries[0].id, 'delivered');
      expect(receiver.received('/forum').length).toBe(before + 1);
    });

    it('recovers exactly the deliveries that did not succeed in the window', async () => {
      const since = new Date().toISOString();
      receiver.setDefault('/shop', { status: 500 });
      const failed = await emit('missed-1', ['shop']);
      await waitForStatus(failed.deliveries[0].id, 'dead');
      receiver.setDefault('/shop', { status: 204 });
      const ok = await emit('fine', ['shop']);
      await waitForStatus(ok.deliveries[0].id, 'delivered');
      const count = receiver.received('/shop').length;

      const res = await json<{ recovered: number }>(await post('/v1/clients/me/recover', { since }, tokens.shop), 202);
      expect(res.recovered).toBe(1);
      await waitForStatus(failed.deliveries[0].id, 'delivered');
      expect(receiver.received('/shop').length).toBe(count + 1);

      expect((await post('/v1/clients/shop/recover', { since: '2020-01-01T00:00:00Z' })).status).toBe(400);
      expect((await post('/v1/clients/shop/recover', { since: 'soon' })).status).toBe(400);
      expect((await post('/v1/clients/forum/recover', { since }, tokens.shop)).status).toBe(404);
    });
  });

  describe('bulk retry batches', () => {
    const post = (path: string, body: unknown, token = admin) =>
      fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    interface Batch {
      id: string;
      state: string;
      total: number;
      done: number;
      succeeded: number;
      failed: number;
    }
    const batch = (id: string, token = admin) => call('GET', `/v1/retries/${id}`, token).then((r) => r.json() as Promise<Batch>);

    async function deadDeliveries(clientId: string, count: number) {
      receiver.setDefault(`/${clientId}`, { status: 500 });
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await emit(`bulk-${clientId}-${i}`, [clientId])).deliveries[0].id);
      for (const id of ids) await waitForStatus(id, 'dead');
      return ids;
    }

    it('re-sends what went dead once the receiver is fixed, with correct progress counts', async () => {
      const since = new Date().toISOString();
      const ids = await deadDeliveries('shop', 3);
      receiver.setDefault('/shop', { status: 204 });
      const created = await json<Batch>(await post('/v1/retries', { client_id: 'shop', statuses: ['dead'], since }), 202);
      expect(created).toMatchObject({ total: 3 });
      const finished = await waitFor(async () => ((await batch(created.id)).state === 'done' ? batch(created.id) : null), {
        what: 'the batch to finish',
      });
      expect(finished).toMatchObject({ state: 'done', total: 3, done: 3, succeeded: 3, failed: 0 });
      for (const id of ids) expect((await delivery(id)).status).toBe('delivered');
      expect((await batch(created.id, tokens.shop)).id).toBe(created.id);
      expect((await call('GET', `/v1/retries/${created.id}`, tokens.forum)).status).toBe(404);
    });

    it('allows one active batch per client, can be cancelled, and does not hold up fresh logouts', async () => {
      const since = new Date().toISOString();
      await deadDeliveries('forum', 6);
      receiver.setDefault('/forum', { status: 204, delayMs: 800 });
      const running = await json<Batch>(await post('/v1/retries', { since }, tokens.forum), 202);
      expect(running.total).toBe(6);
      const second = await post('/v1/retries', { client_id: 'forum', since });
      expect(second.status).toBe(409);

      const started = Date.now();
      const fresh = await emit('fresh-during-batch', ['shop']);
      await waitForStatus(fresh.deliveries[0].id, 'delivered');
      expect(Date.now() - started).toBeLessThan(1500);

      const cancelled = await json<Batch>(await call('DELETE', `/v1/retries/${running.id}`, admin));
      expect(cancelled.state).toBe('cancelled');
      await new Promise((r) => setTimeout(r, 1000));
      const after = await batch(running.id);
      expect(after.state).toBe('cancelled');
      expect(after.done).toBeLessThan(6);
      receiver.setDefault('/forum', { status: 204 });
    });

    it('refuses batches beyond the caps or for another client', async () => {
      const old = '2020-01-01T00:00:00Z';
      expect((await post('/v1/retries', { since: old })).status).toBe(400);
      expect((await post('/v1/retries', { since: new Date().toISOString(), statuses: ['delivered'] })).status).toBe(400);
      expect((await post('/v1/retries', { client_id: 'forum', since: new Date().toISOString() }, tokens.shop)).status).toBe(404);
      expect((await post('/v1/retries', { since: new Date().toISOString() }, emitter)).status).toBe(403);
    });
  });

  it('exposes Prometheus metrics on the api and the worker', async () => {
    // One failure, and the next attempt seconds away: the breaker holds a failure count meanwhile.
    receiver.reply('/forum', { status: 503, headers: { 'retry-after': '5' } });
    const { deliveries } = await emit('metrics', ['forum']);
    await waitFor(async () => (await delivery(deliveries[0].id)).attempts >= 1, { what: 'a failed attempt' });
    const apiMetrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(apiMetrics).toMatch(/^slo_deliveries\{status="delivered"\} [1-9]\d*$/m);
    expect(apiMetrics).toMatch(/^slo_logout_events\{trigger="external"\} [1-9]\d*$/m);
    expect(apiMetrics).toMatch(/^slo_queue_jobs\{queue="delivery",state="waiting"\} \d+$/m);
    expect(apiMetrics).toMatch(/^slo_queue_oldest_waiting_seconds\{queue="delivery"\} [\d.]+$/m);
    expect(apiMetrics).toMatch(/^slo_endpoint_breaker_open\{client_id="forum"\} [01]$/m);
    const workerMetrics = await (await fetch(`${workerUrl}/metrics`)).text();
    expect(workerMetrics).toMatch(/^slo_delivery_attempts_total\{outcome="delivered"\} [1-9]\d*$/m);
    expect(workerMetrics).toMatch(/^slo_delivery_attempt_duration_seconds_bucket\{le="0.5",outcome="delivered"\} [1-9]\d*$/m);
    expect(workerMetrics).toMatch(/^slo_process_cpu_seconds_total /m);
  });

  it('serves the queue dashboard to admin client credentials only', async () => {
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const anonymous = await fetch(`${stack.apiUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(
      (await fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: basic('test-admin', 'wrong') } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: basic('shop', secrets.shop) } })).status,
    ).toBe(403);
    const auth = { authorization: basic(TEST_ADMIN.clientId, TEST_ADMIN.secret) };
    const page = await fetch(`${stack.apiUrl}/admin/queues`, { headers: auth });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    const queues = (await (await fetch(`${stack.apiUrl}/admin/queues/api/queues`, { headers: auth })).json()) as {
      queues: { name: string }[];
    };
    expect(queues.queues.map((q) => q.name).sort()).toEqual(['delivery', 'retry-batch']);
  });

  it('answers every operator endpoint: 401 without a token, 404 for another client’s resources, 200 for its own and for admins', async () => {
    const { event_id, deliveries } = await emit('matrix', ['forum']);
    const id = deliveries[0].id;
    await waitForStatus(id, 'delivered');
    const since = new Date(Date.now() - 60_000).toISOString();
    const batch = (
      await json<{ id: string }>(
        await fetch(`${stack.apiUrl}/v1/retries`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.forum}`, 'content-type': 'application/json' },
          body: JSON.stringify({ since }),
        }),
        202,
      )
    ).id;
    const routes: [string, string, unknown?][] = [
      ['GET', `/v1/logout-events/${event_id}`],
      ['GET', `/v1/deliveries/${id}`],
      ['GET', `/v1/deliveries/${id}/attempts`],
      ['POST', `/v1/deliveries/${id}/retry?force=true`],
      ['GET', '/v1/clients/forum/health'],
      ['POST', '/v1/clients/forum/recover', { since }],
      ['GET', `/v1/retries/${batch}`],
    ];
    const send = (method: string, path: string, body: unknown, token?: string) =>
      fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    for (const [method, path, body] of routes) {
      expect([path, (await send(method, path, body)).status]).toEqual([path, 401]);
      expect([path, (await send(method, path, body, tokens.shop)).status]).toEqual([path, 404]);
      expect([path, (await send(method, path, body, tokens.forum)).status]).toEqual([path, path.includes('recover') ? 202 : 200]);
      expect([path, (await send(method, path, body, admin)).status]).toEqual([path, path.includes('recover') ? 202 : 200]);
    }
    for (const path of ['/v1/clients/forum/disable', '/v1/clients/forum/enable', '/v1/keys/rotate']) {
      expect((await send('POST', path, {}, tokens.forum)).status).toBe(403);
      expect((await send('POST', path, {})).status).toBe(401);
    }
    expect((await send('GET', '/v1/keys', undefined, tokens.forum)).status).toBe(403);
  });
});
