import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import { LogoutService } from '@slo/logout';
import {
  HttpSession,
  Receiver,
  signIn,
  startTestStack,
  TestClient,
  TestStack,
  waitFor,
  withPg,
  FAST_DELIVERY_ENV,
} from '@slo/testing';
import Redis from 'ioredis';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Webhook } from 'standardwebhooks';

const USER = { email: 'grace@example.com', password: 'correct horse battery' };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('logout pipeline: outbox, fan-out, delivery, retries', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: string;
  let emitter: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  const api = (method: string, path: string, body?: unknown, token = admin, headers: Record<string, string> = {}) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withPg(stack.dbUrl, (c) => c.query(text, params)).then((r) => r.rows as T[]);

  /** Registers a relying party whose back channel is `path` on the test receiver. */
  async function registerClient(
    clientId: string,
    extra: Record<string, unknown> = {},
  ): Promise<TestClient & Record<string, unknown>> {
    const res = await api('POST', '/v1/clients', {
      client_id: clientId,
      client_name: clientId,
      redirect_uris: [`http://127.0.0.1:9/${clientId}/callback`],
      backchannel_logout_uri: `${receiver.url}/${clientId}/backchannel`,
      ...extra,
    });
    const body = (await res.json()) as TestClient & Record<string, unknown>;
    expect(res.status).toBe(201);
    return { ...body, redirect_uri: `http://127.0.0.1:9/${clientId}/callback` };
  }

  const emit = (body: unknown, headers: Record<string, string> = {}) => api('POST', '/v1/logout-events', body, emitter, headers);

  async function emitOk(body: Record<string, unknown>) {
    const res = await emit(body);
    const json = (await res.json()) as { event_id: string; deliveries: { id: string; client_id: string; status: string }[] };
    expect(res.status).toBe(202);
    return json;
  }

  const delivery = async (id: string) =>
    (
      await sql<{ status: string; attempts: number; last_error: string | null }>('SELECT * FROM deliveries WHERE id = $1', [id])
    )[0];

  const waitForStatus = (id: string, status: string, timeoutMs = 15_000) =>
    waitFor(async () => ((await delivery(id))?.status === status ? delivery(id) : null), {
      timeoutMs,
      what: `delivery ${id} to become ${status}`,
    });

  const attemptsOf = (id: string) =>
    sql<{
      number: number;
      trigger: string;
      status_code: number | null;
      error_class: string | null;
      outcome: string;
      response_excerpt: string | null;
    }>('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY number', [id]);

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: {
        DELIVERY_TIMEOUT_MS: '1000',
        DELIVERY_MAX_ATTEMPTS: '6',
        ...FAST_DELIVERY_ENV,
        DELIVERY_ENDPOINT_CONCURRENCY: '2',
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_COOLDOWN_MS: '1500',
      },
    });
    await stack.start(createWorkerApp);
    await stack.identity.get(UsersService).create({ ...USER, name: 'Grace' });
    admin = await stack.serverToken('admin');
    emitter = await stack.serverToken('logout:emit');
    jwks = createRemoteJWKSet(new URL(`${stack.identityUrl}/jwks`));
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  describe('a user logs out of a session two applications share', () => {
    let rs: TestClient;
    let es: TestClient;
    let other: TestClient;
    let shared: { sid: string; sub: string; refreshToken?: string };
    let otherSession: { sid: string };

    beforeAll(async () => {
      rs = await registerClient('app-rs');
      es = await registerClient('app-es', { id_token_signed_response_alg: 'ES256', logout_token_typ: 'JWT' });
      other = await registerClient('app-other');
      await registerClient('app-silent', { backchannel_logout_uri: null });
      const browser = new HttpSession();
      shared = await signIn(stack.identityUrl, browser, rs, USER);
      const second = await signIn(stack.identityUrl, browser, es, USER);
      expect(second.sid).toBe(shared.sid);
      otherSession = await signIn(stack.identityUrl, new HttpSession(), other, USER);
      expect(otherSession.sid).not.toBe(shared.sid);
    });

    it('records which clients took part in which session when they obtain tokens', async () => {
      const rows = await sql<{ sid: string; client_id: string; sub: string }>(
        'SELECT sid, client_id, sub FROM session_clients ORDER BY client_id',
      );
      expect(rows).toEqual([
        { sid: shared.sid, client_id: 'app-es', sub: shared.sub },
        { sid: otherSession.sid, client_id: 'app-other', sub: shared.sub },
        { sid: shared.sid, client_id: 'app-rs', sub: shared.sub },
      ]);
    });

    it('ends the session and tells exactly its clients with valid, fresh logout tokens', async () => {
      const logouts = stack.api!.get(LogoutService);
      const recorded = await logouts.record({ trigger: 'user_logout', sid: shared.sid });
      expect(recorded.event.sub).toBe(shared.sub);
      expect(recorded.deliveries.map((d) => d.clientId).sort()).toEqual(['app-es', 'app-rs']);
      for (const d of recorded.deliveries) await waitForStatus(d.id, 'delivered');

      const rsToken = receiver.received('/app-rs/backchannel');
      const esToken = receiver.received('/app-es/backchannel');
      expect(rsToken).toHaveLength(1);
      expect(esToken).toHaveLength(1);
      expect(receiver.received('/app-other/backchannel')).toHaveLength(0);
      expect(rsToken[0].headers['content-type']).toBe('application/x-www-form-urlencoded');

      for (const [req, client, alg, typ] of [
        [rsToken[0], rs, 'RS256', 'logout+jwt'],
        [esToken[0], es, 'ES256', 'JWT'],
      ] as const) {
        const header = decodeProtectedHeader(req.logoutToken!);
        expect(header).toMatchObject({ alg, typ });
        const { payload } = await jwtVerify(req.logoutToken!, jwks, {
          issuer: stack.identityUrl,
          audience: client.client_id,
          typ,
        });
        expect(payload).toMatchObject({ sub: shared.sub, sid: shared.sid, events: { [EVENT]: {} } });
        expect(payload.nonce).toBeUndefined();
        expect(typeof payload.jti).toBe('string');
        expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
        expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(30);
      }

      // The session and the grants issued in it are gone: the refresh token no longer works.
      const sessions = await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [shared.sid]);
      expect(sessions).toHaveLength(0);
      const refresh = await fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.client_secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: shared.refreshToken! }),
      });
      expect(refresh.status).toBe(400);
      // The other session is untouched.
      expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [otherSession.sid])).toHaveLength(1);

      const attempts = await attemptsOf(recorded.deliveries[0].id);
      expect(attempts).toMatchObject([{ number: 1, trigger: 'scheduled', status_code: 204, outcome: 'delivered' }]);
    });

    it('logs out every session of the subject when no sid is given', async () => {
      const recorded = await stack.api!.get(LogoutService).record({ trigger: 'all_sessions', sub: shared.sub });
      expect(recorded.deliveries.map((d) => [d.clientId, d.sid])).toEqual([['app-other', otherSession.sid]]);
      await waitForStatus(recorded.deliveries[0].id, 'delivered');
      expect(
        await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND payload->>'accountId' = $1", [shared.sub]),
      ).toHaveLength(0);
      expect(await sql('SELECT 1 FROM session_clients WHERE sub = $1', [shared.sub])).toHaveLength(0);
    });
  });

  describe('ingestion for external identity platforms', () => {
    beforeAll(async () => {
      await registerClient('ext-a');
      await registerClient('ext-b', { backchannel_logout_session_required: false });
    });

    it('accepts an event, answers 202 with its deliveries, and delivers them', async () => {
      const accepted = await emitOk({ sub: 'ext-user-1', sid: 'ext-sid-1', target_clients: ['ext-a', 'ext-b'] });
      expect(accepted.deliveries).toHaveLength(2);
      for (const d of accepted.deliveries) await waitForStatus(d.id, 'delivered');
      const [req] = receiver.received('/ext-a/backchannel').slice(-1);
      const { payload } = await jwtVerify(req.logoutToken!, jwks, { issuer: stack.identityUrl, audience: 'ext-a' });
      expect(payload).toMatchObject({ sub: 'ext-user-1', sid: 'ext-sid-1' });
      const [event] = await sql('SELECT trigger, initiator_client_id FROM logout_events WHERE id = $1', [accepted.event_id]);
      expect(event).toEqual({ trigger: 'external', initiator_client_id: 'test-admin' });
    });

    it('makes a repeated request with the same Idempotency-Key return the same event, and a different body a 409', async () => {
      const body = { sub: 'ext-user-2', target_clients: ['ext-b'] };
      const first = await emit(body, { 'idempotency-key': 'evt-2' });
      const second = await emit(body, { 'idempotency-key': 'evt-2' });
      expect(first.status).toBe(202);
      expect(second.status).toBe(202);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      const [a, b] = (await Promise.all([first.json(), second.json()])) as { event_id: string }[];
      expect(b.event_id).toBe(a.event_id);
      expect(await sql('SELECT 1 FROM deliveries WHERE event_id = $1', [a.event_id])).toHaveLength(1);

      const conflict = await emit({ ...body, sub: 'someone-else' }, { 'idempotency-key': 'evt-2' });
      expect(conflict.status).toBe(409);
      expect(await conflict.json()).toMatchObject({ error: 'conflict', details: [{ field: 'Idempotency-Key' }] });
    });

    it('collapses concurrent requests with one Idempotency-Key into one event', async () => {
      const body = { sub: 'ext-user-3', target_clients: ['ext-b'] };
      const answers = await Promise.all(Array.from({ length: 5 }, () => emit(body, { 'idempotency-key': 'evt-3' })));
      expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
      const ids = new Set(((await Promise.all(answers.map((r) => r.json()))) as { event_id: string }[]).map((j) => j.event_id));
      expect(ids.size).toBe(1);
    });

    it.each([
      ['neither sub nor sid', {}, 'sub'],
      ['an unknown target', { sub: 'u', target_clients: ['no-such-client'] }, 'target_clients[0]'],
      ['a target without back channel', { sub: 'u', target_clients: ['app-silent'] }, 'target_clients[0]'],
      ['a malformed target', { sub: 'u', target_clients: ['../etc'] }, 'target_clients'],
      ['an empty sub', { sub: '' }, 'sub'],
      ['a non-string sid', { sid: 42 }, 'sid'],
      ['an unknown field', { sub: 'u', trigger: 'user_logout' }, 'trigger'],
      ['a bad time', { sub: 'u', occurred_at: 'yesterday' }, 'occurred_at'],
    ])('refuses %s with a 400 naming the field, writing nothing', async (_what, body, field) => {
      const before = await sql('SELECT count(*)::int AS n FROM logout_events');
      const res = await emit(body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { error: string; details: { field: string }[] };
      expect(json.error).toBe('validation_failed');
      expect(json.details.map((d) => d.field)).toContain(field);
      expect(await sql('SELECT count(*)::int AS n FROM logout_events')).toEqual(before);
    });

    it('refuses a malformed Idempotency-Key, a token without logout:emit and a missing token', async () => {
      const bad = await emit({ sub: 'u' }, { 'idempotency-key': 'has spaces in it' });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ details: [{ field: 'Idempotency-Key' }] });
      const selfOnly = await api('POST', '/v1/logout-events', { sub: 'u' }, await stack.serverToken('client:self'));
      expect(selfOnly.status).toBe(403);
      const anonymous = await fetch(`${stack.apiUrl}/v1/logout-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub: 'u' }),
      });
      expect(anonymous.status).toBe(401);
    });
  });

  describe('outcome policy', () => {
    it('retries temporary failures with a fresh token each time, honouring Retry-After', async () => {
      await registerClient('flaky');
      receiver.reply(
        '/flaky/backchannel',
        { status: 503, body: 'down for maintenance' },
        { status: 429, headers: { 'retry-after': '1' } },
      );
      const started = Date.now();
      const { deliveries } = await emitOk({ sub: 'u-flaky', target_clients: ['flaky'] });
      await waitForStatus(deliveries[0].id, 'delivered');
      const got = receiver.received('/flaky/backchannel');
      expect(got).toHaveLength(3);
      expect(got[2].at - got[1].at).toBeGreaterThanOrEqual(950);
      expect(Date.now() - started).toBeLessThan(10_000);
      const jtis = await Promise.all(got.map(async (r) => (await jwtVerify(r.logoutToken!, jwks)).payload.jti));
      expect(new Set(jtis).size).toBe(3);
      const attempts = await attemptsOf(deliveries[0].id);
      expect(attempts.map((a) => [a.number, a.status_code, a.error_class, a.outcome])).toEqual([
        [1, 503, 'http_503', 'retry'],
        [2, 429, 'http_429', 'retry'],
        [3, 204, null, 'delivered'],
      ]);
      expect(attempts[0].response_excerpt).toBe('down for maintenance');
    });

    it('rejects a 400 and a redirect (never followed) without retrying', async () => {
      await registerClient('refuses');
      await registerClient('redirects');
      receiver.reply('/refuses/backchannel', { status: 400, body: '{"error":"invalid_request"}' });
      receiver.reply('/redirects/backchannel', { status: 302, headers: { location: `${receiver.url}/elsewhere` } });
      const { deliveries } = await emitOk({ sub: 'u-reject', target_clients: ['refuses', 'redirects'] });
      for (const d of deliveries) {
        const row = await waitForStatus(d.id, 'rejected');
        expect(row!.attempts).toBe(1);
      }
      expect(receiver.received('/elsewhere')).toHaveLength(0);
      const byClient = Object.fromEntries(deliveries.map((d) => [d.client_id, d.id]));
      expect((await attemptsOf(byClient.refuses))[0]).toMatchObject({
        status_code: 400,
        response_excerpt: '{"error":"invalid_request"}',
      });
      expect((await delivery(byClient.redirects)).last_error).toBe('http_302');
    });

    it('marks a delivery dead on 410 and disables the endpoint; later logouts to it are kept as skipped', async () => {
      await registerClient('gone');
      receiver.reply('/gone/backchannel', { status: 410 });
      const first = await emitOk({ sub: 'u-gone', target_clients: ['gone'] });
      await waitForStatus(first.deliveries[0].id, 'dead');
      const client = (await (await api('GET', '/v1/clients/gone')).json()) as Record<string, unknown>;
      expect(client.endpoint_status).toBe('disabled');
      expect(client.endpoint_status_reason).toMatch(/410/);
      expect(client.status).toBe('active');
      const second = await emitOk({ sub: 'u-gone', target_clients: ['gone'] });
      expect(second.deliveries[0].status).toBe('skipped');
      expect(receiver.received('/gone/backchannel')).toHaveLength(1);
    });

    it('gives up after the client’s maximum number of attempts', async () => {
      await registerClient('broken', { delivery_max_attempts: 2 });
      receiver.setDefault('/broken/backchannel', { status: 500 });
      const { deliveries } = await emitOk({ sub: 'u-broken', target_clients: ['broken'] });
      const row = await waitForStatus(deliveries[0].id, 'dead');
      expect(row!.attempts).toBe(2);
      expect(receiver.received('/broken/backchannel')).toHaveLength(2);
    });

    it('times out an endpoint that does not answer, then retries', async () => {
      await registerClient('sleepy', { delivery_timeout_ms: 300 });
      receiver.reply('/sleepy/backchannel', 'hang');
      const { deliveries } = await emitOk({ sub: 'u-sleepy', target_clients: ['sleepy'] });
      await waitForStatus(deliveries[0].id, 'delivered');
      const attempts = await attemptsOf(deliveries[0].id);
      expect(attempts.map((a) => [a.error_class, a.outcome])).toEqual([
        ['timeout', 'retry'],
        [null, 'delivered'],
      ]);
    });
  });

  describe('signed JSON webhooks', () => {
    it('signs per Standard Webhooks with a webhook-id that stays the same across retries', async () => {
      const client = await registerClient('hooks', { delivery_format: 'webhook' });
      const secret = client.webhook_secret as string;
      expect(secret).toMatch(/^whsec_/);
      const stored = await sql<{ webhook_secret_enc: string }>(
        "SELECT webhook_secret_enc FROM clients WHERE client_id = 'hooks'",
      );
      expect(stored[0].webhook_secret_enc).not.toContain(secret.slice(6));
      expect(await (await api('GET', '/v1/clients/hooks')).json()).not.toHaveProperty('webhook_secret');

      receiver.reply('/hooks/backchannel', { status: 502 });
      const { event_id, deliveries } = await emitOk({ sub: 'u-hook', sid: 's-hook', target_clients: ['hooks'] });
      await waitForStatus(deliveries[0].id, 'delivered');
      const got = receiver.received('/hooks/backchannel');
      expect(got).toHaveLength(2);
      expect(got[0].headers['webhook-id']).toBe(deliveries[0].id);
      expect(got[1].headers['webhook-id']).toBe(deliveries[0].id);
      const verifier = new Webhook(secret);
      for (const r of got) {
        const payload = verifier.verify(r.body, r.headers as Record<string, string>) as {
          type: string;
          data: Record<string, unknown>;
        };
        expect(payload).toMatchObject({
          type: 'session.logout',
          data: { iss: stack.identityUrl, client_id: 'hooks', sub: 'u-hook', sid: 's-hook', event_id, trigger: 'external' },
        });
      }
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(
          got[1].body,
          got[1].headers as Record<string, string>,
        ),
      ).toThrow();
    });
  });

  it('signs with both webhook secrets during a rotation’s grace period, then with the new one only', async () => {
    const client = await registerClient('rotating', { delivery_format: 'webhook' });
    const old = client.webhook_secret as string;
    const rotated = await api('POST', '/v1/clients/rotating/webhook-secret', { grace_seconds: 2 });
    const { webhook_secret: next } = (await rotated.json()) as { webhook_secret: string };
    expect(rotated.status).toBe(200);
    expect(next).not.toBe(old);
    const first = await emitOk({ sub: 'u-rot', target_clients: ['rotating'] });
    await waitForStatus(first.deliveries[0].id, 'delivered');
    const [during] = receiver.received('/rotating/backchannel');
    expect(during.headers['webhook-signature']!.toString().split(' ')).toHaveLength(2);
    for (const secret of [old, next])
      expect(() => new Webhook(secret).verify(during.body, during.headers as Record<string, string>)).not.toThrow();

    await new Promise((r) => setTimeout(r, 2100));
    const second = await emitOk({ sub: 'u-rot-2', target_clients: ['rotating'] });
    await waitForStatus(second.deliveries[0].id, 'delivered');
    const after = receiver.received('/rotating/backchannel')[1];
    expect(() => new Webhook(next).verify(after.body, after.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(old).verify(after.body, after.headers as Record<string, string>)).toThrow();
    await registerClient('tokens-only');
    expect((await api('POST', '/v1/clients/tokens-only/webhook-secret', {})).status).toBe(409);
  });

  describe('durability: PostgreSQL is the truth, Redis the transport', () => {
    it('delivers a committed delivery that never reached the queue (crash between commit and enqueue)', async () => {
      await registerClient('orphan');
      const [event] = await sql<{ id: string }>(
        `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ('019a0000-0000-7000-8000-000000000001', 'external', 'u-orphan', now()) RETURNING id`,
      );
      const [row] = await sql<{ id: string }>(
        `INSERT INTO deliveries (id, event_id, client_id, sub, status, next_attempt_at)
         VALUES ('019a0000-0000-7000-8000-000000000002', $1, 'orphan', 'u-orphan', 'pending', now() - interval '1 minute') RETURNING id`,
        [event.id],
      );
      await waitForStatus(row.id, 'delivered', 20_000);
      expect(receiver.received('/orphan/backchannel')).toHaveLength(1);
    });

    it('recovers deliveries after Redis loses every key of the deployment', async () => {
      await registerClient('amnesia');
      receiver.reply('/amnesia/backchannel', { status: 503, headers: { 'retry-after': '2' } });
      const { deliveries } = await emitOk({ sub: 'u-amnesia', target_clients: ['amnesia'] });
      await waitForStatus(deliveries[0].id, 'retrying');
      const redis = new Redis('redis://127.0.0.1:6379');
      try {
        const keys = await redis.keys(`${stack.config.redis.prefix}:*`);
        expect(keys.length).toBeGreaterThan(0);
        await redis.del(...keys);
      } finally {
        await redis.quit();
      }
      await waitForStatus(deliveries[0].id, 'delivered', 20_000);
      expect(receiver.received('/amnesia/backchannel')).toHaveLength(2);
    });
  });

  describe('isolation', () => {
    it('bounds the workers one slow endpoint holds, so other endpoints are not delayed', async () => {
      await registerClient('slow', { delivery_timeout_ms: 1500, delivery_max_attempts: 1 });
      await registerClient('quick');
      receiver.setDefault('/slow/backchannel', { status: 204, delayMs: 1000 });
      const slow = await Promise.all(
        Array.from({ length: 6 }, (_, i) => emitOk({ sub: `u-slow-${i}`, target_clients: ['slow'] })),
      );
      const startedQuick = Date.now();
      const quick = await emitOk({ sub: 'u-quick', target_clients: ['quick'] });
      await waitForStatus(quick.deliveries[0].id, 'delivered');
      expect(Date.now() - startedQuick).toBeLessThan(900);
      for (const s of slow) await waitForStatus(s.deliveries[0].id, 'delivered', 20_000);
      expect(receiver.maxInFlight.get('/slow/backchannel')).toBe(2);
    });

    it('opens the circuit breaker after repeated failures; held-back sends use up no attempts', async () => {
      await registerClient('tripping', { delivery_max_attempts: 50 });
      receiver.setDefault('/tripping/backchannel', { status: 503 });
      const events = await Promise.all(
        Array.from({ length: 4 }, (_, i) => emitOk({ sub: `u-trip-${i}`, target_clients: ['tripping'] })),
      );
      const ids = events.map((e) => e.deliveries[0].id);
      await waitFor(() => receiver.received('/tripping/backchannel').length >= 3, { what: 'three failures' });
      // Open: for the cooldown nothing reaches the endpoint.
      await new Promise((r) => setTimeout(r, 200));
      const whileOpen = receiver.received('/tripping/backchannel').length;
      await new Promise((r) => setTimeout(r, 800));
      expect(receiver.received('/tripping/backchannel').length).toBe(whileOpen);

      receiver.setDefault('/tripping/backchannel', { status: 204 });
      for (const id of ids) await waitForStatus(id, 'delivered', 20_000);
      const [{ attempts }] = await sql<{ attempts: number }>(
        'SELECT sum(attempts)::int AS attempts FROM deliveries WHERE id = ANY($1)',
        [ids],
      );
      expect(attempts).toBe(receiver.received('/tripping/backchannel').length);
    });
  });
});
