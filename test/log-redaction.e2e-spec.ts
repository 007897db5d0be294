import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import {
  FAST_DELIVERY_ENV,
  HttpSession,
  Receiver,
  signIn,
  SignedIn,
  startTestStack,
  TEST_ADMIN,
  TestClient,
  TestStack,
  waitFor,
  withPg,
} from '@slo/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const USER = { email: 'rene@example.com', password: 'a password only the test knows 7Qx!' };

/** What a secret that escaped redaction would look like, whatever its value. */
const SECRET_SHAPES: [string, RegExp][] = [
  ['a client secret hash', /sha256:[0-9a-f]{64}/],
  ['a sealed secret', /v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{8,}/],
  ['a webhook secret', /whsec_/],
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ/],
];

describe('no secret of a full run reaches the logs', () => {
  let stack: TestStack;
  let receiver: Receiver;
  let dir: string;
  let logFile: string;

  const log = () => readFileSync(logFile, 'utf8');
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withPg(stack.dbUrl, (c) => c.query(text, params)).then((r) => r.rows as T[]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slo-logs-'));
    logFile = join(dir, 'run.log');
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      env: { ...FAST_DELIVERY_ENV, LOG_LEVEL: 'debug', LOG_FILE: logFile, LOGOUT_REDIRECT_WAIT_MS: '3000' },
    });
    await stack.start(createWorkerApp);
  });
  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs every request of a sign-in, refresh, failures and logouts, with no token, code, secret or password in any line', async () => {
    const secrets: Record<string, string> = { adminSecret: TEST_ADMIN.secret, password: USER.password };
    const keep = (name: string, value: string | undefined | null) => {
      if (!value || value.length < 12) throw new Error(`${name}: no value to look for (${value})`);
      secrets[name] = value;
    };
    await stack.identity.get(UsersService).create({ ...USER, name: 'René' });

    // Client registration with secrets, through a server token (client_credentials, Basic auth).
    const admin = await stack.serverToken('admin');
    keep('adminToken', admin);
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const register = async (id: string, extra: Record<string, unknown> = {}): Promise<TestClient> => {
      const res = await api('POST', '/v1/clients', {
        client_id: id,
        client_name: id,
        redirect_uris: ['http://127.0.0.1:9/cb'],
        post_logout_redirect_uris: ['http://127.0.0.1:9/'],
        ...extra,
      });
      expect(res.status).toBe(201);
      keep(`${id} client_secret`, res.body.client_secret);
      if (res.body.webhook_secret) keep(`${id} webhook_secret`, res.body.webhook_secret);
      return { client_id: id, client_secret: res.body.client_secret, redirect_uri: 'http://127.0.0.1:9/cb' };
    };
    const app = await register('app', { backchannel_logout_uri: `${receiver.url}/bcl` });
    const hooks = await register('hooks', { backchannel_logout_uri: `${receiver.url}/hook`, delivery_format: 'webhook' });
    const broken = await register('broken-app');
    const [hooksRow] = await sql<{ secret_hash: string; webhook_secret_enc: string }>(
      "SELECT secret_hash, webhook_secret_enc FROM clients WHERE client_id = 'hooks'",
    );
    keep('hooks secret_hash', hooksRow.secret_hash);
    keep('hooks sealed webhook secret', hooksRow.webhook_secret_enc);
    keep('webhook secret key', secrets['hooks webhook_secret'].replace(/^whsec_/, ''));

    // Sign-ins with the password (auth code + PKCE, tokens with offline_access).
    const keepSignIn = (name: string, s: SignedIn, browser: HttpSession) => {
      keep(`${name} code`, s.code);
      keep(`${name} access token`, s.accessToken);
      keep(`${name} refresh token`, s.refreshToken);
      keep(`${name} id token`, s.idToken);
      keep(`${name} session cookie`, browser.cookie('_session'));
      return s;
    };
    const one = new HttpSession();
    const atApp = keepSignIn('app', await signIn(stack.identityUrl, one, app, USER), one);
    keepSignIn('hooks', await signIn(stack.identityUrl, one, hooks, USER), one);

    // Refresh, with the client secret in the body (client_secret_post) this time.
    const refreshed = await fetch(`${stack.identityUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: atApp.refreshToken!,
        client_id: app.client_id,
        client_secret: app.client_secret,
      }),
    });
    expect(refreshed.status).toBe(200);
    const tokens = (await refreshed.json()) as { access_token: string; refresh_token: string; id_token: string };
    keep('refreshed access token', tokens.access_token);
    keep('refreshed refresh token', tokens.refresh_token);
    keep('refreshed id token', tokens.id_token);
    expect((await fetch(`${stack.identityUrl}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(
      200,
    );

    // A request with tokens in its URL that fails inside (500), and one refused (400).
    await sql(`CREATE FUNCTION refuse_broken_app() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused row %', row_to_json(NEW); END $$`);
    await sql(`CREATE TRIGGER refuse_broken_logout BEFORE INSERT ON logout_events FOR EACH ROW
      WHEN (NEW.initiator_client_id = 'broken-app') EXECUTE FUNCTION refuse_broken_app()`);
    await sql(`CREATE TRIGGER refuse_broken_client BEFORE INSERT ON clients FOR EACH ROW
      WHEN (NEW.name = 'Broken') EXECUTE FUNCTION refuse_broken_app()`);
    const two = new HttpSession();
    const atBroken = keepSignIn('broken-app', await signIn(stack.identityUrl, two, broken, USER), two);
    const failing = await two.request(
      `${stack.identityUrl}/logout?client_id=broken-app&oauth_token=${encodeURIComponent(atBroken.accessToken)}&id_token_hint=${encodeURIComponent(atBroken.idToken)}`,
    );
    expect(failing.status).toBe(500);
    // A browser route: the 500 is an HTML page quoting the error id.
    const logoutErrorId = /Error id: ([0-9a-f-]{36})/.exec(await failing.text())?.[1] ?? 'no error id on the page';
    expect(logoutErrorId).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await fetch(
      `${stack.identityUrl}/logout?client_id=nobody&oauth_token=${encodeURIComponent(tokens.access_token)}`,
    );
    expect(refused.status).toBe(400);

    // A query that fails with secrets among its parameters (the new client's secret hash and
    // sealed webhook secret), PostgreSQL repeating them in its message.
    const failedInsert = await api('POST', '/v1/clients', {
      client_id: 'broken-hooks',
      client_name: 'Broken',
      redirect_uris: ['http://127.0.0.1:9/cb'],
      backchannel_logout_uri: `${receiver.url}/hook`,
      delivery_format: 'webhook',
    });
    expect(failedInsert.status).toBe(500);
    const sqlErrorId = failedInsert.body.error_id;

    // Logout through GET /logout: the back channel gets a logout token, the webhook a signed event.
    const out = await one.request(`${stack.identityUrl}/logout?client_id=app`);
    expect(out.status).toBe(303);
    await waitFor(() => receiver.received('/bcl').length > 0 && receiver.received('/hook').length > 0, {
      what: 'the back-channel and webhook deliveries',
      timeoutMs: 20_000,
    });
    const [bcl, hook] = [receiver.received('/bcl')[0], receiver.received('/hook')[0]];
    keep('delivered logout token', bcl.logoutToken);
    keep('webhook signature', String(hook.headers['webhook-signature']).split(',').pop());

    // API logout with a user's access token, and "all sessions" with the server token.
    const three = new HttpSession();
    const atApi = keepSignIn('api-logout', await signIn(stack.identityUrl, three, app, USER), three);
    const apiLogout = await fetch(`${stack.identityUrl}/api/2/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${atApi.accessToken}` },
    });
    expect(apiLogout.status).toBe(200);
    const everywhere = await fetch(`${stack.identityUrl}/api/2/logout?sub=${encodeURIComponent(atApi.sub)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(everywhere.status).toBe(200);

    // The run was logged: every step, the 500s with their error ids, the redirects with their Location.
    const text = await waitFor(
      () => {
        const t = log();
        return [logoutErrorId, sqlErrorId, '/api/2/logout?sub=', 'refused row'].every((s) => t.includes(s)) ? t : '';
      },
      { what: 'the failures and the last request in the log' },
    );
    const lines = text.trim().split('\n');
    // (The worker, which sent the deliveries, logs nothing while they succeed.)
    for (const app of ['identity', 'api']) expect(lines.some((l) => l.includes(`"name":"${app}"`))).toBe(true);
    expect(text).toContain('oauth_token=[redacted]&id_token_hint=[redacted]');
    expect(text).toMatch(/"location":"http:\/\/127\.0\.0\.1:9\/cb\?code=\[redacted\]/);
    expect(text).toContain('"authorization":"[redacted]"');
    expect(text).toContain('"cookie":"[redacted]"');
    expect(text).toContain('"set-cookie":"[redacted]"');
    const sqlLine = lines.find((l) => l.includes(sqlErrorId))!;
    expect(sqlLine).toContain('INSERT INTO');
    expect(sqlLine).toContain('[redacted]');

    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, found: text.includes(value) || text.includes(encodeURIComponent(value)) }).toEqual({ name, found: false });
    }
    for (const [name, shape] of SECRET_SHAPES) {
      expect({ name, line: lines.find((l) => shape.test(l)) }).toEqual({ name, line: undefined });
    }
  });
});
