import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { createWorkerApp } from '../apps/worker/src/worker.app';
import { UsersService } from '@slo/accounts';
import {
  apiClient,
  FAST_DELIVERY_ENV,
  HttpSession,
  Receiver,
  registerClient,
  signIn,
  SignedIn,
  sql,
  startTestStack,
  TEST_ADMIN,
  TestStack,
  waitFor,
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slo-logs-'));
    logFile = join(dir, 'run.log');
    receiver = await Receiver.start();
    stack = await startTestStack({
      identity: createIdentityApp,
      api: createApiApp,
      worker: createWorkerApp,
      env: { ...FAST_DELIVERY_ENV, LOG_LEVEL: 'debug', LOG_FILE: logFile, LOGOUT_REDIRECT_WAIT_MS: '3000' },
    });
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
    const admin = stack.client(await stack.serverToken('admin'));
    keep('adminToken', admin.token);
    const identity = apiClient(stack.identityUrl);
    const register = async (id: string, extra: Record<string, unknown> = {}) => {
      const c = await registerClient(admin, null, id, {
        redirect_uris: ['http://127.0.0.1:9/cb'],
        post_logout_redirect_uris: ['http://127.0.0.1:9/'],
        ...extra,
      });
      keep(`${id} client_secret`, c.client_secret);
      if (c.webhook_secret) keep(`${id} webhook_secret`, String(c.webhook_secret));
      return c;
    };
    const app = await register('app', { backchannel_logout_uri: `${receiver.url}/bcl` });
    const hooks = await register('hooks', { backchannel_logout_uri: `${receiver.url}/hook`, delivery_format: 'webhook' });
    const broken = await register('broken-app');
    const [hooksRow] = await sql(stack)<{ secret_hash: string; webhook_secret_enc: string }>(
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
    const atApp = keepSignIn('app', await signIn(stack, one, app, USER), one);
    keepSignIn('hooks', await signIn(stack, one, hooks, USER), one);

    // Refresh, with the client secret in the body (client_secret_post) this time.
    const tokens = await identity.post<{ access_token: string; refresh_token: string; id_token: string }>('/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: atApp.refreshToken!,
        client_id: app.client_id,
        client_secret: app.client_secret,
      }).toString(),
      expect: 200,
    });
    keep('refreshed access token', tokens.access_token);
    keep('refreshed refresh token', tokens.refresh_token);
    keep('refreshed id token', tokens.id_token);
    await identity.as(tokens.access_token).get('/me', { expect: 200 });

    // A request with tokens in its URL that fails inside (500), and one refused (400).
    const db = sql(stack);
    await db(`CREATE FUNCTION refuse_broken_app() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused row %', row_to_json(NEW); END $$`);
    await db(`CREATE TRIGGER refuse_broken_logout BEFORE INSERT ON logout_events FOR EACH ROW
      WHEN (NEW.initiator_client_id = 'broken-app') EXECUTE FUNCTION refuse_broken_app()`);
    await db(`CREATE TRIGGER refuse_broken_client BEFORE INSERT ON clients FOR EACH ROW
      WHEN (NEW.name = 'Broken') EXECUTE FUNCTION refuse_broken_app()`);
    const two = new HttpSession();
    const atBroken = keepSignIn('broken-app', await signIn(stack, two, broken, USER), two);
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
    const failedInsert = await admin.post<{ error_id: string }>('/v1/clients', {
      body: {
        client_id: 'broken-hooks',
        client_name: 'Broken',
        redirect_uris: ['http://127.0.0.1:9/cb'],
        backchannel_logout_uri: `${receiver.url}/hook`,
        delivery_format: 'webhook',
      },
      expect: 500,
    });
    const sqlErrorId = failedInsert.error_id;

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
    const atApi = keepSignIn('api-logout', await signIn(stack, three, app, USER), three);
    await identity.as(atApi.accessToken).post('/api/2/logout', { expect: 200 });
    await identity.as(admin.token).post(`/api/2/logout?sub=${encodeURIComponent(atApi.sub)}`, { expect: 200 });

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
