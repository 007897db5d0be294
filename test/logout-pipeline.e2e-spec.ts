import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import { LogoutService } from '@slo/logout';
import {
  ApiClient,
  basicAuth,
  emitLogout,
  expectQuietFor,
  FAST_DELIVERY_ENV,
  HttpSession,
  Receiver,
  registerClient,
  signIn,
  sql,
  Sql,
  startTestStack,
  TestClient,
  TestStack,
  waitFor,
  waitForDelivery,
} from '@slo/testing';
import Redis from 'ioredis';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Webhook } from 'standardwebhooks';
import { v7 as uuidv7 } from 'uuid';

const USER = { email: 'grace@example.com', password: 'correct horse battery' };
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('logout pipeline: outbox, fan-out, delivery, retries', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let db: Sql;
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  /** A relying party whose back channel is `/<clientId>/backchannel` on the test receiver. */
  const register = (clientId: string, extra: Record<string, unknown> = {}) => registerClient(admin, receiver, clientId, extra);
  const emit = (body: unknown, opts: { headers?: Record<string, string>; expect?: number } = {}) =>
    emitLogout(emitter, body, opts);
  const delivered = async (id: string, timeoutMs?: number) => (await waitForDelivery(stack, id, 'delivered', { timeoutMs }))[0];

  const attemptsOf = (id: string) =>
    db<{
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
      worker: createWorkerApp,
      env: {
        DELIVERY_TIMEOUT_MS: '1000',
        DELIVERY_MAX_ATTEMPTS: '6',
        ...FAST_DELIVERY_ENV,
        DELIVERY_ENDPOINT_CONCURRENCY: '2',
        BREAKER_FAILURE_THRESHOLD: '3',
        BREAKER_COOLDOWN_MS: '1500',
      },
    });
    db = sql(stack);
    await stack.identity.get(UsersService).create({ ...USER, name: 'Grace' });
    admin = stack.client(await stack.serverToken('admin'));
    emitter = stack.client(await stack.serverToken('logout:emit'));
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
      rs = await register('app-rs');
      es = await register('app-es', { id_token_signed_response_alg: 'ES256', logout_token_typ: 'JWT' });
      other = await register('app-other');
      await register('app-silent', { backchannel_logout_uri: null });
      const browser = new HttpSession();
      shared = await signIn(stack, browser, rs, USER);
      const second = await signIn(stack, browser, es, USER);
      expect(second.sid).toBe(shared.sid);
      otherSession = await signIn(stack, new HttpSession(), other, USER);
      expect(otherSession.sid).not.toBe(shared.sid);
    });

    it('records which clients took part in which session when they obtain tokens', async () => {
      const rows = await db<{ sid: string; client_id: string; sub: string }>(
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
      await waitForDelivery(
        stack,
        recorded.deliveries.map((d) => d.id),
        'delivered',
      );

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
      const sessions = await db("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [shared.sid]);
      expect(sessions).toHaveLength(0);
      const refresh = await fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(rs),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: shared.refreshToken! }),
      });
      expect(refresh.status).toBe(400);
      // The other session is untouched.
      expect(await db("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [otherSession.sid])).toHaveLength(1);

      const attempts = await attemptsOf(recorded.deliveries[0].id);
      expect(attempts).toMatchObject([{ number: 1, trigger: 'scheduled', status_code: 204, outcome: 'delivered' }]);
    });

    it('logs out every session of the subject when no sid is given', async () => {
      const recorded = await stack.api!.get(LogoutService).record({ trigger: 'all_sessions', sub: shared.sub });
      expect(recorded.deliveries.map((d) => [d.clientId, d.sid])).toEqual([['app-other', otherSession.sid]]);
      await delivered(recorded.deliveries[0].id);
      expect(
        await db("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND payload->>'accountId' = $1", [shared.sub]),
      ).toHaveLength(0);
      expect(await db('SELECT 1 FROM session_clients WHERE sub = $1', [shared.sub])).toHaveLength(0);
    });
  });

  describe('ingestion for external identity platforms', () => {
    beforeAll(async () => {
      await register('ext-a');
      await register('ext-b', { backchannel_logout_session_required: false });
    });

    it('accepts an event, answers 202 with its deliveries, and delivers them', async () => {
      const accepted = await emit({ sub: 'ext-user-1', sid: 'ext-sid-1', target_clients: ['ext-a', 'ext-b'] });
      expect(accepted.deliveries).toHaveLength(2);
      await waitForDelivery(
        stack,
        accepted.deliveries.map((d) => d.id),
        'delivered',
      );
      const [req] = receiver.received('/ext-a/backchannel').slice(-1);
      const { payload } = await jwtVerify(req.logoutToken!, jwks, { issuer: stack.identityUrl, audience: 'ext-a' });
      expect(payload).toMatchObject({ sub: 'ext-user-1', sid: 'ext-sid-1' });
      const [event] = await db('SELECT trigger, initiator_client_id FROM logout_events WHERE id = $1', [accepted.event_id]);
      expect(event).toEqual({ trigger: 'external', initiator_client_id: 'test-admin' });
    });

    it('makes a repeated request with the same Idempotency-Key return the same event, and a different body a 409', async () => {
      const body = { sub: 'ext-user-2', target_clients: ['ext-b'] };
      const headers = { 'idempotency-key': 'evt-2' };
      const send = () => emitter.send<{ event_id: string }>('POST', '/v1/logout-events', { body, headers, expect: 202 });
      const a = await send();
      const b = await send();
      expect(b.headers.get('idempotent-replayed')).toBe('true');
      expect(b.body.event_id).toBe(a.body.event_id);
      expect(await db('SELECT 1 FROM deliveries WHERE event_id = $1', [a.body.event_id])).toHaveLength(1);

      const conflict = await emit({ ...body, sub: 'someone-else' }, { headers, expect: 409 });
      expect(conflict).toMatchObject({ error: 'conflict', details: [{ field: 'Idempotency-Key' }] });
    });

    it('collapses concurrent requests with one Idempotency-Key into one event', async () => {
      const body = { sub: 'ext-user-3', target_clients: ['ext-b'] };
      const answers = await Promise.all(Array.from({ length: 5 }, () => emit(body, { headers: { 'idempotency-key': 'evt-3' } })));
      const ids = new Set(answers.map((j) => j.event_id));
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
      const before = await db('SELECT count(*)::int AS n FROM logout_events');
      const json = await emitLogout<{ error: string; details: { field: string }[] }>(emitter, body, { expect: 400 });
      expect(json.error).toBe('validation_failed');
      expect(json.details.map((d) => d.field)).toContain(field);
      expect(await db('SELECT count(*)::int AS n FROM logout_events')).toEqual(before);
    });

    it('refuses a malformed Idempotency-Key, a token without logout:emit and a missing token', async () => {
      const bad = await emit({ sub: 'u' }, { headers: { 'idempotency-key': 'has spaces in it' }, expect: 400 });
      expect(bad).toMatchObject({ details: [{ field: 'Idempotency-Key' }] });
      await emitLogout(stack.client(await stack.serverToken('client:self')), { sub: 'u' }, { expect: 403 });
      await emitLogout(stack.client(), { sub: 'u' }, { expect: 401 });
    });
  });

  describe('outcome policy', () => {
    it('retries temporary failures with a fresh token each time, honouring Retry-After', async () => {
      await register('flaky');
      receiver.reply(
        '/flaky/backchannel',
        { status: 503, body: 'down for maintenance' },
        { status: 429, headers: { 'retry-after': '1' } },
      );
      const started = Date.now();
      const { deliveries } = await emit({ sub: 'u-flaky', target_clients: ['flaky'] });
      await delivered(deliveries[0].id);
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
      await register('refuses');
      await register('redirects');
      receiver.reply('/refuses/backchannel', { status: 400, body: '{"error":"invalid_request"}' });
      receiver.reply('/redirects/backchannel', { status: 302, headers: { location: `${receiver.url}/elsewhere` } });
      const { deliveries } = await emit({ sub: 'u-reject', target_clients: ['refuses', 'redirects'] });
      for (const row of await waitForDelivery(
        stack,
        deliveries.map((d) => d.id),
        'rejected',
      ))
        expect(row.attempts).toBe(1);
      expect(receiver.received('/elsewhere')).toHaveLength(0);
      const byClient = Object.fromEntries(deliveries.map((d) => [d.client_id, d.id]));
      expect((await attemptsOf(byClient.refuses))[0]).toMatchObject({
        status_code: 400,
        response_excerpt: '{"error":"invalid_request"}',
      });
      const [redirected] = await db<{ last_error: string }>('SELECT last_error FROM deliveries WHERE id = $1', [
        byClient.redirects,
      ]);
      expect(redirected.last_error).toBe('http_302');
    });

    it('marks a delivery dead on 410 and disables the endpoint; later logouts to it are kept as skipped', async () => {
      await register('gone');
      receiver.reply('/gone/backchannel', { status: 410 });
      const first = await emit({ sub: 'u-gone', target_clients: ['gone'] });
      await waitForDelivery(stack, first.deliveries[0].id, 'dead');
      const client = await admin.get('/v1/clients/gone', { expect: 200 });
      expect(client.endpoint_status).toBe('disabled');
      expect(client.endpoint_status_reason).toMatch(/410/);
      expect(client.status).toBe('active');
      const second = await emit({ sub: 'u-gone', target_clients: ['gone'] });
      expect(second.deliveries[0].status).toBe('skipped');
      expect(receiver.received('/gone/backchannel')).toHaveLength(1);
    });

    it('gives up after the client’s maximum number of attempts', async () => {
      await register('broken', { delivery_max_attempts: 2 });
      receiver.setDefault('/broken/backchannel', { status: 500 });
      const { deliveries } = await emit({ sub: 'u-broken', target_clients: ['broken'] });
      const [row] = await waitForDelivery(stack, deliveries[0].id, 'dead');
      expect(row.attempts).toBe(2);
      expect(receiver.received('/broken/backchannel')).toHaveLength(2);
    });

    it('times out an endpoint that does not answer, then retries', async () => {
      await register('sleepy', { delivery_timeout_ms: 300 });
      receiver.reply('/sleepy/backchannel', 'hang');
      const { deliveries } = await emit({ sub: 'u-sleepy', target_clients: ['sleepy'] });
      await delivered(deliveries[0].id);
      const attempts = await attemptsOf(deliveries[0].id);
      expect(attempts.map((a) => [a.error_class, a.outcome])).toEqual([
        ['timeout', 'retry'],
        [null, 'delivered'],
      ]);
    });
  });

  describe('signed JSON webhooks', () => {
    it('signs per Standard Webhooks with a webhook-id that stays the same across retries', async () => {
      const client = await register('hooks', { delivery_format: 'webhook' });
      const secret = client.webhook_secret as string;
      expect(secret).toMatch(/^whsec_/);
      const stored = await db<{ webhook_secret_enc: string }>("SELECT webhook_secret_enc FROM clients WHERE client_id = 'hooks'");
      expect(stored[0].webhook_secret_enc).not.toContain(secret.slice(6));
      expect(await admin.get('/v1/clients/hooks', { expect: 200 })).not.toHaveProperty('webhook_secret');

      receiver.reply('/hooks/backchannel', { status: 502 });
      const { event_id, deliveries } = await emit({ sub: 'u-hook', sid: 's-hook', target_clients: ['hooks'] });
      await delivered(deliveries[0].id);
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
    const client = await register('rotating', { delivery_format: 'webhook' });
    const old = client.webhook_secret as string;
    const rotated = await admin.post<{ webhook_secret: string; previous_secret_valid_until: string }>(
      '/v1/clients/rotating/webhook-secret',
      { body: { grace_seconds: 2 }, expect: 200 },
    );
    const next = rotated.webhook_secret;
    expect(next).not.toBe(old);
    const first = await emit({ sub: 'u-rot', target_clients: ['rotating'] });
    await delivered(first.deliveries[0].id);
    const [during] = receiver.received('/rotating/backchannel');
    expect(during.headers['webhook-signature']!.toString().split(' ')).toHaveLength(2);
    for (const secret of [old, next])
      expect(() => new Webhook(secret).verify(during.body, during.headers as Record<string, string>)).not.toThrow();

    const graceEnds = Date.parse(rotated.previous_secret_valid_until);
    await waitFor(() => Date.now() > graceEnds, { what: 'the grace period to end' });
    const second = await emit({ sub: 'u-rot-2', target_clients: ['rotating'] });
    await delivered(second.deliveries[0].id);
    const after = receiver.received('/rotating/backchannel')[1];
    expect(() => new Webhook(next).verify(after.body, after.headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(old).verify(after.body, after.headers as Record<string, string>)).toThrow();
    await register('tokens-only');
    await admin.post('/v1/clients/tokens-only/webhook-secret', { body: {}, expect: 409 });
  });

  describe('durability: PostgreSQL is the truth, Redis the transport', () => {
    it('delivers a committed delivery that never reached the queue (crash between commit and enqueue)', async () => {
      await register('orphan');
      // UUIDv7 ids of now, as the pipeline makes them: deliveries are partitioned by the month of their id.
      const [event] = await db<{ id: string }>(
        `INSERT INTO logout_events (id, trigger, sub, occurred_at) VALUES ($1, 'external', 'u-orphan', now()) RETURNING id`,
        [uuidv7()],
      );
      const [row] = await db<{ id: string }>(
        `INSERT INTO deliveries (id, event_id, client_id, sub, status, next_attempt_at)
         VALUES ($2, $1, 'orphan', 'u-orphan', 'pending', now() - interval '1 minute') RETURNING id`,
        [event.id, uuidv7()],
      );
      await delivered(row.id, 20_000);
      expect(receiver.received('/orphan/backchannel')).toHaveLength(1);
    });

    it('recovers deliveries after Redis loses every key of the deployment', async () => {
      await register('amnesia');
      receiver.reply('/amnesia/backchannel', { status: 503, headers: { 'retry-after': '2' } });
      const { deliveries } = await emit({ sub: 'u-amnesia', target_clients: ['amnesia'] });
      await waitForDelivery(stack, deliveries[0].id, 'retrying');
      const redis = new Redis('redis://127.0.0.1:6379');
      try {
        const keys = await redis.keys(`${stack.config.redis.prefix}:*`);
        expect(keys.length).toBeGreaterThan(0);
        await redis.del(...keys);
      } finally {
        await redis.quit();
      }
      await delivered(deliveries[0].id, 20_000);
      expect(receiver.received('/amnesia/backchannel')).toHaveLength(2);
    });
  });

  describe('isolation', () => {
    it('bounds the workers one slow endpoint holds, so other endpoints are not delayed', async () => {
      await register('slow', { delivery_timeout_ms: 1500, delivery_max_attempts: 1 });
      await register('quick');
      receiver.setDefault('/slow/backchannel', { status: 204, delayMs: 1000 });
      const slow = await Promise.all(Array.from({ length: 6 }, (_, i) => emit({ sub: `u-slow-${i}`, target_clients: ['slow'] })));
      const quick = await emit({ sub: 'u-quick', target_clients: ['quick'] });
      const quickRow = await delivered(quick.deliveries[0].id);
      const slowRows = await waitForDelivery(
        stack,
        slow.map((s) => s.deliveries[0].id),
        'delivered',
        { timeoutMs: 20_000 },
      );
      // Not delayed: the quick endpoint was done before the slow one finished any send (each takes 1 s).
      expect(quickRow.delivered_at!.getTime()).toBeLessThan(Math.min(...slowRows.map((r) => r.delivered_at!.getTime())));
      expect(receiver.maxInFlight.get('/slow/backchannel')).toBe(2);
    });

    it('opens the circuit breaker after repeated failures; held-back sends use up no attempts', async () => {
      await register('tripping', { delivery_max_attempts: 50 });
      const path = '/tripping/backchannel';
      receiver.setDefault(path, { status: 503 });
      const events = await Promise.all(
        Array.from({ length: 4 }, (_, i) => emit({ sub: `u-trip-${i}`, target_clients: ['tripping'] })),
      );
      const ids = events.map((e) => e.deliveries[0].id);
      await waitFor(() => receiver.received(path).length >= 3, { what: 'three failures' });
      // Open, and no send in flight: until the cooldown ends nothing reaches the endpoint.
      const { breaker } = await waitFor(async () => {
        const health = await admin.get<{ breaker: { state: string; open_until: string } }>('/v1/clients/tripping/health', {
          expect: 200,
        });
        const sending = await db("SELECT 1 FROM deliveries WHERE id = ANY($1) AND status = 'delivering'", [ids]);
        return health.breaker.state === 'open' && sending.length === 0 ? health : null;
      });
      const whileOpen = receiver.received(path).length;
      await expectQuietFor(Date.parse(breaker.open_until) - Date.now() - 100, () => receiver.received(path).length !== whileOpen);
      expect(receiver.received(path).length).toBe(whileOpen);

      receiver.setDefault(path, { status: 204 });
      await waitForDelivery(stack, ids, 'delivered', { timeoutMs: 20_000 });
      const [{ attempts }] = await db<{ attempts: number }>(
        'SELECT sum(attempts)::int AS attempts FROM deliveries WHERE id = ANY($1)',
        [ids],
      );
      expect(attempts).toBe(receiver.received(path).length);
    });
  });
});
