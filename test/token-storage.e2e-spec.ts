import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { dataSourceOptions } from '@slo/database';
import { TokensHashedAtRest1796128262400 } from '../libs/database/src/migrations/1796128262400-tokens-hashed-at-rest';
import { hashStoredId } from '@slo/sessions';
import {
  apiClient,
  basicAuth,
  HttpSession,
  RegisteredClient,
  registerClient,
  signIn,
  sql as sqlOn,
  Sql,
  startTestStack,
  TestStack,
  withPg,
} from '@slo/testing';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';

const USER = { email: 'noor@example.com', password: 'correct horse battery' };
const TOKEN_HASH_KEY = `token-storage-test-key-${randomBytes(8).toString('hex')}`;
const REDIRECT_URI = 'http://127.0.0.1:9/cb';

describe('tokens, codes and session ids hashed at rest', () => {
  let stack: TestStack;
  let client: RegisteredClient;
  let sql: Sql;

  const hash = (value: string) => hashStoredId(TOKEN_HASH_KEY, value);
  /** Everything a database reader or a backup gets: a plain-text pg_dump of the data. */
  const dump = async () => (await promisify(execFile)('pg_dump', ['--data-only', stack.dbUrl], { maxBuffer: 64 << 20 })).stdout;
  const userinfo = async (accessToken: string) =>
    (await fetch(`${stack.identityUrl}/me`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
  const refresh = async (refreshToken: string) => {
    const res = await fetch(`${stack.identityUrl}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(client), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    return { status: res.status, body: (await res.json()) as { access_token?: string; refresh_token?: string } };
  };
  const authorizeUrl = (extra: Record<string, string> = {}) =>
    `${stack.identityUrl}/auth?${new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid',
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    })}`;
  /** The browser's identity session, if its cookie still names one: prompt=none answers with a code. */
  const silentSignIn = async (browser: HttpSession) => {
    const res = await browser.request(authorizeUrl({ prompt: 'none' }));
    return new URL(res.headers.get('location') ?? 'x:', REDIRECT_URI).searchParams;
  };
  /** A sign-in left at the login form: the pending Interaction and the id its cookie carries. */
  const pendingInteraction = async (browser: HttpSession) => {
    const res = await browser.request(authorizeUrl());
    const uid = /\/interaction\/([^/?]+)$/.exec(res.headers.get('location') ?? '')?.[1];
    if (!uid || browser.cookie('_interaction') !== uid) throw new Error(`no interaction: ${res.status}`);
    return uid;
  };
  const loginFormShown = async (browser: HttpSession, uid: string) => {
    const res = await browser.request(`${stack.identityUrl}/interaction/${uid}`);
    return res.status === 200 && (await res.text()).includes(`/interaction/${uid}/login`);
  };

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp, env: { TOKEN_HASH_KEY } });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Noor' });
    sql = sqlOn(stack);
    client = await registerClient(stack.client(await stack.serverToken('admin')), null, 'vault-app', {
      client_name: 'Vault',
      redirect_uris: [REDIRECT_URI],
      post_logout_redirect_uris: ['http://127.0.0.1:9/'],
    });
  });
  afterAll(() => stack?.close());

  it('a database dump holds no token, code, session cookie or interaction id, and every one of them still works', async () => {
    const browser = new HttpSession();
    const signedIn = await signIn(stack, browser, client, USER);
    const sessionCookie = browser.cookie('_session')!;
    const refreshed = await refresh(signedIn.refreshToken!);
    expect(refreshed.status).toBe(200);
    const serverToken = await stack.serverToken('admin');
    const pending = await pendingInteraction(new HttpSession());
    // An interaction of the signed-in browser names its session (the provider copies the cookie value in).
    const reLogin = await browser.request(authorizeUrl({ prompt: 'login' }));
    expect(reLogin.headers.get('location')).toMatch(/\/interaction\//);
    const secrets = {
      accessToken: signedIn.accessToken,
      refreshToken: signedIn.refreshToken!,
      refreshedAccessToken: refreshed.body.access_token!,
      refreshedRefreshToken: refreshed.body.refresh_token!,
      idToken: signedIn.idToken,
      code: signedIn.code,
      sessionCookie,
      interactionId: pending,
      serverToken,
    };
    for (const [name, value] of Object.entries(secrets))
      expect({ name, value: value && value.length > 15 }).toEqual({ name, value: true });

    const text = await dump();
    for (const [name, value] of Object.entries(secrets))
      expect({ name, found: text.includes(value) }).toEqual({ name, found: false });
    // The rows are there, under the keyed hash of their value; the sid (no credential) in clear.
    for (const value of [signedIn.accessToken, signedIn.refreshToken!, sessionCookie, pending, signedIn.code]) {
      expect(text).toContain(hash(value));
    }
    expect(text).toContain(signedIn.sid);

    // Everything still works from the presented value.
    expect(await userinfo(signedIn.accessToken)).toBe(200);
    expect(await userinfo(refreshed.body.access_token!)).toBe(200);
    expect((await refresh(refreshed.body.refresh_token!)).status).toBe(200);
    await stack.client(serverToken).get('/v1/clients/vault-app', { expect: 200 });
    expect((await silentSignIn(browser)).get('code')).toBeTruthy();
    const pendingBrowser = new HttpSession();
    const uid = await pendingInteraction(pendingBrowser);
    expect(await loginFormShown(pendingBrowser, uid)).toBe(true);

    // GET /logout finds the session by its cookie and ends it, revoking the grant's tokens.
    const out = await browser.request(`${stack.identityUrl}/logout?client_id=vault-app`);
    expect(out.status).toBe(303);
    expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Session' AND uid = $1", [signedIn.sid])).toHaveLength(0);
    expect(await userinfo(refreshed.body.access_token!)).toBe(401);
    expect((await silentSignIn(browser)).get('error')).toBe('login_required');
  });

  it('API logout revokes the grant stored under its hash', async () => {
    const signedIn = await signIn(stack, new HttpSession(), client, USER);
    const [{ grant_id: grantId }] = await sql<{ grant_id: string }>(
      "SELECT grant_id FROM oidc_payloads WHERE model = 'AccessToken' AND id = $1",
      [hash(signedIn.accessToken)],
    );
    expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = $1", [hash(grantId)])).toHaveLength(1);
    await apiClient(stack.identityUrl, signedIn.accessToken).post('/api/2/logout', { expect: 200 });
    expect(await sql("SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = $1", [hash(grantId)])).toHaveLength(0);
    expect(await userinfo(signedIn.accessToken)).toBe(401);
    expect((await refresh(signedIn.refreshToken!)).status).toBe(400);
  });

  it('the migration hashes rows stored in clear before it, and their sessions and tokens keep working', async () => {
    await sql('DELETE FROM oidc_payloads');
    const browser = new HttpSession();
    const signedIn = await signIn(stack, browser, client, USER);
    const pendingBrowser = new HttpSession();
    const uid = await pendingInteraction(pendingBrowser);
    const [{ grant_id: grantId }] = await sql<{ grant_id: string }>(
      "SELECT grant_id FROM oidc_payloads WHERE model = 'AccessToken' AND id = $1",
      [hash(signedIn.accessToken)],
    );
    const known: [string, string][] = [
      ['Session', browser.cookie('_session')!],
      ['AccessToken', signedIn.accessToken],
      ['RefreshToken', signedIn.refreshToken!],
      ['Grant', grantId],
      ['Interaction', uid],
    ];
    // Back to the format of the adapter before the migration: the value as id and as jti, the
    // interaction id in returnTo. The used-up code goes (its value was never known here).
    await sql(`DELETE FROM oidc_payloads WHERE model = 'AuthorizationCode'`);
    for (const [model, value] of known) {
      const [, updated] = await withPg(stack.dbUrl, (c) =>
        c.query(
          `UPDATE oidc_payloads SET id = $3::text,
             payload = CASE WHEN payload ? 'returnTo'
               THEN jsonb_set(payload, '{returnTo}', to_jsonb(replace(payload->>'returnTo', '{id}', $3::text)))
               ELSE payload END || jsonb_build_object('jti', $3::text)
           WHERE model = $1 AND id = $2 RETURNING 1`,
          [model, hash(value), value],
        ),
      ).then((r) => [r.rows, r.rowCount]);
      expect({ model, updated }).toEqual({ model, updated: 1 });
    }
    expect(await sql('SELECT model FROM oidc_payloads WHERE NOT (id = ANY($1))', [known.map(([, v]) => v)])).toEqual([]);
    // Stored in clear, the rows are not found any more by the hashing adapter...
    expect(await userinfo(signedIn.accessToken)).toBe(401);
    expect(await loginFormShown(pendingBrowser, uid)).toBe(false);

    // ...until the migration hashes them, with the key of the configuration (TOKEN_HASH_KEY).
    const saved = process.env.TOKEN_HASH_KEY;
    process.env.TOKEN_HASH_KEY = TOKEN_HASH_KEY;
    const ds = new DataSource(dataSourceOptions(stack.dbUrl));
    await ds.initialize();
    const runner = ds.createQueryRunner();
    try {
      await new TokensHashedAtRest1796128262400().up(runner);
    } finally {
      await runner.release();
      await ds.destroy();
      if (saved === undefined) delete process.env.TOKEN_HASH_KEY;
      else process.env.TOKEN_HASH_KEY = saved;
    }

    const text = await dump();
    for (const [model, value] of known) {
      // A grant id is no credential: tokens and the session name their grant in clear.
      if (model !== 'Grant') expect({ model, found: text.includes(value) }).toEqual({ model, found: false });
      expect({ model, hashed: text.includes(hash(value)) }).toEqual({ model, hashed: true });
    }
    expect(await userinfo(signedIn.accessToken)).toBe(200);
    expect(await loginFormShown(pendingBrowser, uid)).toBe(true);
    expect((await silentSignIn(browser)).get('code')).toBeTruthy();
    expect((await refresh(signedIn.refreshToken!)).status).toBe(200);
  });
});
