import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { ClientsService } from '@slo/clients';
import { apiClient, HttpSession, startTestStack, TestStack, PRODUCTION_TEST_ENV } from '@slo/testing';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { tokenRequest } from './support/oidc';

const USER = { email: 'ada@example.com', password: 'correct horse battery' };
const REDIRECT = 'http://127.0.0.1:9/callback';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** An authorization request of the code flow, with `params` (client_id, redirect_uri, …) added. */
const authorizeUrl = (base: string, params: Record<string, string>) =>
  `${base}/auth?${new URLSearchParams({ response_type: 'code', ...params })}`;

describe('login through the identity service', () => {
  let stack: TestStack;
  let client: { client_id: string; client_secret: string };
  let jwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Ada' });
    // A client registered through the api must be able to log users in at once.
    client = await stack.client(await stack.serverToken('admin')).post<typeof client>('/v1/clients', {
      body: { client_name: 'Web shop', redirect_uris: [REDIRECT], id_token_signed_response_alg: 'ES256' },
      expect: 201,
    });
    jwks = createRemoteJWKSet(new URL(`${stack.identityUrl}/jwks`));
  });

  afterAll(() => stack?.close());

  /** Authorization request → login form; returns the form's action URL. */
  async function openLoginForm(session: HttpSession, base: string, challenge: string) {
    const url = authorizeUrl(base, {
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      scope: 'openid email offline_access',
      prompt: 'consent',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const page = await session.follow(url, base);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<label for="email">/);
    expect(html).toMatch(/<label for="password">/);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    expect(action).toBeDefined();
    return new URL(action!, base).href;
  }

  async function login(session: HttpSession, base: string, action: string, email: string, password: string) {
    const res = await session.postForm(action, { email, password });
    if (res.status >= 300 && res.status < 400) {
      return session.follow(new URL(res.headers.get('location')!, base).href, base);
    }
    return res;
  }

  const exchange = (code: string, verifier: string) =>
    tokenRequest(stack.identityUrl, client, {
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
    });

  it('completes the authorization code flow with PKCE and issues a signed ID token carrying sid', async () => {
    const session = new HttpSession();
    const { verifier, challenge } = pkce();
    const action = await openLoginForm(session, stack.identityUrl, challenge);
    const back = await login(session, stack.identityUrl, action, USER.email, USER.password);
    expect(back.status).toBe(303);
    const callback = new URL(back.headers.get('location')!);
    expect(callback.origin + callback.pathname).toBe(REDIRECT);
    expect(callback.searchParams.get('state')).toBe('st-1');

    const tokenRes = await exchange(callback.searchParams.get('code')!, verifier);
    expect(tokenRes.status).toBe(200);
    const tokens = (await tokenRes.json()) as { id_token: string; access_token: string; refresh_token?: string };

    expect(decodeProtectedHeader(tokens.id_token).alg).toBe('ES256');
    const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: stack.identityUrl, audience: client.client_id });
    expect(payload.nonce).toBe('n-1');
    expect(typeof payload.sid).toBe('string');
    expect((payload.sid as string).length).toBeGreaterThan(10);
    const user = await stack.identity.get(UsersService).findByEmail(USER.email);
    expect(payload.sub).toBe(user!.id);

    const info = await apiClient(stack.identityUrl, tokens.access_token).get('/me', { expect: 200 });
    expect(info.email).toBe(USER.email);

    // Refresh tokens work, and revocation ends them.
    expect(tokens.refresh_token).toBeDefined();
    const refresh = () =>
      tokenRequest(stack.identityUrl, client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect((await refresh()).status).toBe(200);
    const revocation = { token: tokens.refresh_token!, token_type_hint: 'refresh_token' };
    expect((await tokenRequest(stack.identityUrl, client, revocation, '/token/revocation')).status).toBe(200);
    const afterRevoke = await refresh();
    expect(afterRevoke.status).toBe(400);
    expect(((await afterRevoke.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('sets the session cookie HttpOnly and SameSite=Lax', async () => {
    const session = new HttpSession();
    const action = await openLoginForm(session, stack.identityUrl, pkce().challenge);
    const res = await session.postForm(action, { email: USER.email, password: USER.password });
    const resumed = await fetch(new URL(res.headers.get('location')!, stack.identityUrl), {
      redirect: 'manual',
      headers: { cookie: ['_interaction_resume', '_interaction_resume.sig'].map((n) => `${n}=${session.cookie(n)}`).join('; ') },
    });
    const cookies = resumed.headers.getSetCookie();
    const sessionCookie = cookies.find((c) => c.startsWith('_session='));
    expect(sessionCookie).toMatch(/httponly/i);
    expect(sessionCookie).toMatch(/samesite=lax/i);
    expect(cookies.some((c) => c.startsWith('_session.sig='))).toBe(true);
  });

  it('answers a wrong password and an unknown user in exactly the same way', async () => {
    const answers: { status: number; body: string }[] = [];
    for (const email of [USER.email, 'nobody@example.com']) {
      const session = new HttpSession();
      const action = await openLoginForm(session, stack.identityUrl, pkce().challenge);
      const res = await login(session, stack.identityUrl, action, email, 'wrong password!!');
      const body = (await res.text()).replaceAll(email, 'EMAIL').replace(/\/interaction\/[^/"]+\//g, '/interaction/UID/');
      answers.push({ status: res.status, body });
    }
    expect(answers[0].status).toBe(401);
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0].body).toContain('The e-mail address or password is incorrect.');
  });

  it('refuses an authorization request without PKCE', async () => {
    const url = authorizeUrl(stack.identityUrl, { client_id: client.client_id, redirect_uri: REDIRECT, scope: 'openid' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('works across two identity instances sharing PostgreSQL (no state in process memory)', async () => {
    const second = await stack.start('identity', { IDENTITY_ISSUER: stack.identityUrl });
    const session = new HttpSession();
    const { verifier, challenge } = pkce();
    // Start on instance A, post the login form to instance B, exchange the code at A.
    const action = await openLoginForm(session, stack.identityUrl, challenge);
    const res = await session.postForm(action.replace(stack.identityUrl, second.url), USER);
    expect(res.status).toBe(303);
    const resumeOnB = new URL(res.headers.get('location')!, second.url).href.replace(stack.identityUrl, second.url);
    const back = await session.follow(resumeOnB, second.url);
    const code = new URL(back.headers.get('location')!).searchParams.get('code')!;
    expect((await exchange(code, verifier)).status).toBe(200);
  });
});

describe('login interaction errors', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp });
  });
  afterAll(() => stack?.close());

  it('answers an unknown or expired sign-in with a 400 page, not a server error', async () => {
    const identity = apiClient(stack.identityUrl);
    const show = await identity.send<string>('GET', '/interaction/does-not-exist', { expect: 400 });
    expect(show.headers.get('content-type')).toContain('text/html');
    expect(show.body).toContain('start again');
    await identity.post('/interaction/does-not-exist/login', {
      body: 'email=a%40b.c&password=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      expect: 400,
    });
  });
});

describe('cookies outside local development', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, env: { ...PRODUCTION_TEST_ENV, TRUST_PROXY: 'true' } });
    await stack.identity.get(ClientsService).create({
      client_id: 'prod-rp',
      client_name: 'Prod RP',
      redirect_uris: ['https://rp.example.com/cb'],
    });
  });
  afterAll(() => stack?.close());

  it('marks provider cookies Secure, HttpOnly and SameSite=Lax behind TLS', async () => {
    const url = authorizeUrl(stack.identityUrl, {
      client_id: 'prod-rp',
      redirect_uri: 'https://rp.example.com/cb',
      scope: 'openid',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const res = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith('_interaction'));
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) {
      expect(c).toMatch(/;\s*secure/i);
      expect(c).toMatch(/;\s*httponly/i);
      expect(c).toMatch(/samesite=lax/i);
    }
  });
});
