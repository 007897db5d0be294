import { LogoutService } from '@slo/logout';
import {
  ApiClient,
  basicAuth,
  emitLogout,
  HttpSession,
  Receiver,
  signIn,
  Sql,
  TestClient,
  TestStack,
  waitFor,
  waitForDelivery,
} from '@slo/testing';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { Webhook } from 'standardwebhooks';
import { PipelineStack, startPipelineStack, USER } from './support/logout-pipeline';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

describe('logout pipeline: outbox, fan-out, logout tokens and webhook format', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let db: Sql;
  let jwks: PipelineStack['jwks'];
  let register: PipelineStack['register'];
  let emit: PipelineStack['emit'];
  let delivered: PipelineStack['delivered'];
  let attemptsOf: PipelineStack['attemptsOf'];

  beforeAll(async () => {
    ({ stack, receiver, admin, emitter, db, jwks, register, emit, delivered, attemptsOf } = await startPipelineStack());
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
});
