import {
  apiClient,
  ApiClient,
  emitLogout,
  expectQuietFor,
  HttpSession,
  Receiver,
  registerClient,
  RegisteredClient,
  serverToken,
  signIn,
  sql,
  Sql,
  waitFor,
} from '@slo/testing';
import { hiddenInputs } from './support/browse';
import { attemptsSentBy, closeEachConnection, createUser, MultiInstance, startMultiInstance } from './support/multi-instance';
import { claimsOf } from './support/oidc';

const PASSWORD = 'several instances 2026';
const APPS = ['app-a', 'app-b', 'app-c'];

describe('several instances of every app: 2 identity, 2 api and 3 worker processes behind round-robin proxies', () => {
  let m: MultiInstance;
  let receiver: Receiver;
  let admin: ApiClient;
  let emitter: ApiClient;
  let db: Sql;
  let restoreFetch: () => void;
  const apps: Record<string, RegisteredClient> = {};

  beforeAll(async () => {
    restoreFetch = closeEachConnection();
    receiver = await Receiver.start();
    m = await startMultiInstance({ identity: 2, api: 2, worker: 3 }, { DELIVERY_LEASE_SECONDS: '5', DELIVERY_CONCURRENCY: '16' });
    db = sql(m);
    admin = apiClient(m.apiUrl, await serverToken(m.identityUrl, 'admin'));
    emitter = admin.as(await serverToken(m.identityUrl, 'logout:emit'));
    for (const id of APPS) apps[id] = await registerClient(admin, receiver, id);
  }, 120_000);

  afterAll(async () => {
    await m?.close();
    await receiver?.close();
    restoreFetch?.();
  });

  /** A user of its own, signed in to `clientIds` in one browser (one identity session). */
  async function signedIn(email: string, clientIds = APPS) {
    const user = { email, password: PASSWORD };
    const sub = await createUser(m.dbUrl, user);
    const browser = new HttpSession();
    const tokens = [];
    for (const id of clientIds) tokens.push(await signIn(m.identityUrl, browser, apps[id], user));
    expect(new Set(tokens.map((t) => t.sid)).size).toBe(1);
    return { sub, browser, sid: tokens[0].sid, tokens };
  }
  const eventOfSession = async (sid: string) =>
    (await db<{ id: string }>('SELECT id FROM logout_events WHERE sid = $1', [sid])).map((r) => r.id);

  it('signs a user in across both identity instances: consecutive requests of one sign-in reach different instances', async () => {
    const before = m.identity.connections();
    const user = { email: 'across@example.com', password: PASSWORD };
    await createUser(m.dbUrl, user);
    const { accessToken } = await signIn(m.identityUrl, new HttpSession(), apps['app-a'], user);
    const served = m.identity.connections().map((n, i) => n - before[i]);
    // Authorize, login form, login, resume, token exchange at least: each instance served part of it.
    expect(served.every((n) => n >= 2)).toBe(true);
    // Both instances know the token: two calls, handed to one instance each.
    const beforeMe = m.identity.connections();
    for (let i = 0; i < 2; i++) await apiClient(m.identityUrl, accessToken).get('/me', { expect: 200 });
    expect(m.identity.connections().every((n, i) => n > beforeMe[i])).toBe(true);
    // The clients were registered through the api proxy: both api instances served some.
    expect(m.api.connections().every((n) => n > 0)).toBe(true);
    process.stdout.write(`one sign-in: identity connections per instance ${JSON.stringify(served)}\n`);
  });

  it('logs out through every route, each delivery made exactly once and recorded, sent by the workers', async () => {
    const events: { route: string; ids: string[]; expected: number }[] = [];

    const browser = await signedIn('browser@example.com');
    const a = apps['app-a'];
    const res = await browser.browser.request(
      `${m.identityUrl}/logout?client_id=${a.client_id}&redirect_uri=${encodeURIComponent(a.redirect_uri)}`,
    );
    expect(res.status).toBe(303);
    events.push({ route: 'GET /logout', ids: await eventOfSession(browser.sid), expected: 3 });

    const rp = await signedIn('rp@example.com');
    const page = await rp.browser.request(`${m.identityUrl}/session/end?id_token_hint=${rp.tokens[0].idToken}`);
    const html = await page.text();
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(html)?.[1];
    expect(action).toBeDefined();
    const confirmed = await rp.browser.postForm(new URL(action!, m.identityUrl).href, { ...hiddenInputs(html), logout: 'yes' });
    expect(confirmed.status).toBe(303);
    events.push({ route: 'end_session', ids: await eventOfSession(rp.sid), expected: 3 });

    const mobile = await signedIn('mobile@example.com');
    const own = await apiClient(m.identityUrl, mobile.tokens[1].accessToken).post<{ event_id: string; scope: string }>(
      '/api/2/logout',
      { expect: 200 },
    );
    expect(own.scope).toBe('app');
    events.push({ route: '/api/2/logout', ids: [own.event_id], expected: 1 });

    const revoked = await signedIn('revoked@example.com');
    const one = await admin.delete<{ event_id: string }>(`/v1/sessions/${encodeURIComponent(revoked.sid)}`, { expect: 202 });
    events.push({ route: 'DELETE /v1/sessions/:sid', ids: [one.event_id], expected: 3 });

    const everywhere = await signedIn('everywhere@example.com', ['app-a', 'app-b']);
    const user = { email: 'everywhere@example.com', password: PASSWORD };
    await signIn(m.identityUrl, new HttpSession(), apps['app-c'], user);
    const all = await admin.delete<{ event_id: string }>(`/v1/users/${everywhere.sub}/sessions`, { expect: 202 });
    events.push({ route: 'DELETE /v1/users/:sub/sessions', ids: [all.event_id], expected: 3 });

    const external = await signedIn('external@example.com');
    const emitted = await emitLogout(emitter, { sub: external.sub });
    events.push({ route: 'POST /v1/logout-events', ids: [emitted.event_id], expected: 3 });

    for (const e of events) expect({ route: e.route, events: e.ids.length }).toEqual({ route: e.route, events: 1 });
    const eventIds = events.flatMap((e) => e.ids);
    const total = events.reduce((n, e) => n + e.expected, 0);
    type Row = { client_id: string; sub: string; sid: string; status: string; attempts: number; tries: string[] };
    const rows = await waitFor(
      async () => {
        const r = await db<Row>(
          `SELECT d.client_id, d.sub, d.sid, d.status, d.attempts,
                  array_remove(array_agg(a.outcome || ' ' || a.status_code), NULL) AS tries
             FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
            WHERE d.event_id = ANY($1) GROUP BY d.id`,
          [eventIds],
        );
        return r.length === total && r.every((x) => x.status === 'delivered') ? r : null;
      },
      { timeoutMs: 20_000, what: `the ${total} deliveries of the six logouts to be delivered` },
    );
    for (const r of rows) expect(r).toMatchObject({ attempts: 1, tries: ['delivered 204'] });

    // The receiver saw one request per delivery (no more: a delivered row is never sent again, also
    // after a sweep of the relay), each a logout token from the one issuer for the client it reached.
    await expectQuietFor(1500, () => receiver.requests.length !== total, { what: `exactly ${total} requests` });
    const sent = receiver.requests.map((r) => {
      const claims = claimsOf(r.logoutToken!);
      expect(claims).toMatchObject({ iss: m.identityUrl, aud: r.path.split('/')[1] });
      return `${String(claims.aud)} ${String(claims.sub)} ${String(claims.sid)}`;
    });
    expect(sent.sort()).toEqual(rows.map((r) => `${r.client_id} ${r.sub} ${r.sid}`).sort());

    // Every attempt recorded was counted by the worker process that sent it, and by no other.
    const perWorker = await Promise.all(m.processes.worker.map(attemptsSentBy));
    const [{ n: recorded }] = await db<{ n: number }>('SELECT count(*)::int AS n FROM delivery_attempts');
    process.stdout.write(`every route: ${total} deliveries; attempts per worker ${JSON.stringify(perWorker)}\n`);
    expect(perWorker.reduce((x, y) => x + y, 0)).toBe(recorded);
  });

  it('loses nothing when one worker is killed mid fan-out: the others take over its lapsed claims', async () => {
    const clients = Array.from({ length: 50 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
    for (const id of clients) await registerClient(admin, receiver, id);
    for (const id of clients) receiver.setDefault(`/${id}/backchannel`, { status: 204, delayMs: 150 });
    const already = receiver.requests.length;
    const workers = m.processes.worker;
    const start = await Promise.all(workers.map(attemptsSentBy));
    const events = 20;
    const eventIds: string[] = [];
    for (let i = 0; i < events; i++) {
      eventIds.push((await emitLogout(emitter, { sub: `bulk-user-${i}`, target_clients: clients })).event_id);
    }
    const expected = events * clients.length;
    const bulk = () => receiver.requests.slice(already);
    const received = () => new Set(bulk().map((r) => `${r.path} ${String(claimsOf(r.logoutToken!).sub)}`));

    await waitFor(() => received().size >= expected / 4, { timeoutMs: 30_000, what: 'a quarter of the deliveries' });
    const atSample = await Promise.all(workers.map(attemptsSentBy));
    const sentBefore = atSample.map((n, i) => n - start[i]);
    const v = sentBefore.indexOf(Math.max(...sentBefore));
    const victim = workers[v];
    await victim.kill();
    const atKill = received().size;
    const claimed = await db<{ id: string; lease_until: Date }>(
      `SELECT id, lease_until FROM deliveries WHERE status = 'delivering' AND event_id = ANY($1)`,
      [eventIds],
    );
    expect(atKill).toBeLessThan(expected);

    await waitFor(() => received().size === expected, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: () => `every (event, client) received (${received().size} of ${expected})`,
    });
    const rows = await waitFor(
      async () => {
        const r = await db<{ id: string; status: string; attempts: number; recorded: number; delivered_at: Date }>(
          `SELECT d.id, d.status, d.attempts, d.delivered_at, count(a.id)::int AS recorded
             FROM deliveries d LEFT JOIN delivery_attempts a ON a.delivery_id = d.id
            WHERE d.event_id = ANY($1) GROUP BY d.id`,
          [eventIds],
        );
        return r.length === expected && r.every((x) => x.status === 'delivered') ? r : null;
      },
      { timeoutMs: 30_000, what: 'every delivery recorded as delivered' },
    );
    // Each delivery has one attempt row per attempt it counts.
    expect(rows.filter((r) => r.recorded !== r.attempts)).toEqual([]);
    const leaseOf = new Map(claimed.map((c) => [c.id, c.lease_until.getTime()]));
    const redriven = rows.filter((r) => leaseOf.has(r.id) && r.delivered_at.getTime() >= leaseOf.get(r.id)!).length;
    const duplicates = bulk().length - expected;
    const after = await Promise.all(workers.map((w, i) => (i === v ? start[i] : attemptsSentBy(w))));
    const sentBy = after.map((n, i) => (i === v ? sentBefore[i] : n - start[i]));
    // Duplicates are the sends in flight (or sent, not yet recorded) when the worker died.
    process.stdout.write(
      `kill -9 of one of 3 workers: ${atKill} of ${expected} received before, ${claimed.length} claimed then, ` +
        `${redriven} re-driven after their lease, ${duplicates} duplicates; attempts sent per worker ${JSON.stringify(sentBy)} ` +
        `(worker ${v} killed after ${sentBefore[v]})\n`,
    );
    process.stdout.write(
      `connections per instance: identity ${JSON.stringify(m.identity.connections())}, api ${JSON.stringify(m.api.connections())}\n`,
    );
    // Some of the dead worker's claims were delivered only after their lease lapsed: the relay re-drove them.
    expect(redriven).toBeGreaterThan(0);
    expect(duplicates).toBeLessThanOrEqual(claimed.length);
    expect(duplicates).toBeLessThanOrEqual(0.05 * expected);
    // The dead worker had sent part of the fan-out, the survivors sent the rest.
    expect(sentBefore[v]).toBeGreaterThan(0);
    expect(sentBy.filter((n, i) => i !== v && n > 0).length).toBeGreaterThan(0);
  }, 120_000);
});
