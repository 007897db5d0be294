import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { HttpSession, startTestStack, TestStack, TEST_REDIS_URL } from '@slo/testing';
import Redis from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';

/**
 * Rate limits and lockout, with low limits. Client addresses come from X-Forwarded-For: the
 * stack trusts the proxy header (TRUST_PROXY=true, as behind a load balancer), so one test
 * process can act as many client IPs (documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
 */
const LIMITS = {
  TRUST_PROXY: 'true',
  LOGIN_MAX_CONSECUTIVE_FAILURES: '3',
  LOGIN_LOCKOUT_SECONDS: '60',
  LOGIN_LOCKOUT_MAX_SECONDS: '600',
  LOGIN_MAX_FAILURES_PER_IP_PER_DAY: '6',
  CLIENT_AUTH_MAX_FAILURES: '3',
  CLIENT_AUTH_WINDOW_SECONDS: '600',
  BEARER_AUTH_MAX_FAILURES_PER_IP: '3',
  BEARER_AUTH_WINDOW_SECONDS: '600',
  INGEST_MAX_EVENTS_PER_MINUTE: '5',
};

const USER = { email: 'ada@example.com', password: 'correct horse battery' };
const WRONG = 'not the password!';
const REDIRECT = 'http://127.0.0.1:9/callback';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function retryAfter(res: Response): number {
  const value = res.headers.get('retry-after');
  expect(value).toMatch(/^\d+$/);
  return Number(value);
}

describe('rate limits and lockout', () => {
  let stack: TestStack;
  let admin: string;
  let rp: { client_id: string; client_secret: string };

  const api = (method: string, path: string, body?: unknown, token = admin, ip?: string) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(ip ? { 'x-forwarded-for': ip } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });

  async function createClient(body: Record<string, unknown>): Promise<{ client_id: string; client_secret: string }> {
    const res = await api('POST', '/v1/clients', body);
    expect(res.status).toBe(201);
    return (await res.json()) as { client_id: string; client_secret: string };
  }

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp, env: LIMITS });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Ada' });
    admin = await stack.serverToken('admin');
    rp = await createClient({ client_name: 'Web shop', redirect_uris: [REDIRECT] });
  });

  afterAll(() => stack?.close());

  interface LoginForm {
    session: HttpSession;
    /** Path of the form's action (/interaction/<uid>/login), valid on every identity instance. */
    action: string;
  }

  /** A browser at the login form of a fresh authorization request. */
  async function openLoginForm(): Promise<LoginForm> {
    const session = new HttpSession();
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const authorize = `${stack.identityUrl}/auth?${new URLSearchParams({
      client_id: rp.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const page = await session.follow(authorize, stack.identityUrl);
    expect(page.status).toBe(200);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(await page.text())?.[1];
    expect(action).toBeDefined();
    return { session, action: action! };
  }

  /** Posts the login form from client address `ip` (to another identity instance if `base` is given). */
  function postLogin(form: LoginForm, ip: string, password: string, email = USER.email, base = stack.identityUrl) {
    return form.session.request(`${base}${form.action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
      body: new URLSearchParams({ email, password }),
    });
  }

  /** The sign-in went through: the login answered a redirect that resumes to the client with a code. */
  async function expectSignedIn(form: LoginForm, res: Response, base = stack.identityUrl) {
    expect(res.status).toBe(303);
    const back = await form.session.follow(new URL(res.headers.get('location')!, base).href, base);
    expect(new URL(back.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  }

  async function expectLockedPage(res: Response) {
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('Too many failed sign-in attempts');
    expect(html).toMatch(/<form method="post" action="[^"]+\/login"/);
    return html;
  }

  describe('login', () => {
    it('keys the client by the address the trusted proxy saw: entries a client adds to X-Forwarded-For do not dodge a lockout', async () => {
      const ip = '203.0.113.77';
      const form = await openLoginForm();
      for (let i = 0; i < 3; i++) await postLogin(form, `198.51.100.${i + 1}, ${ip}`, WRONG);
      // A new forged left-most entry, the same address appended by the (one) trusted proxy.
      await expectLockedPage(await postLogin(form, `198.51.100.99, ${ip}`, USER.password));
    });

    it('locks an account out from one IP after the configured failures; the right password then gets 429 and does not sign in', async () => {
      const ip = '203.0.113.10';
      const form = await openLoginForm();
      for (let i = 1; i <= 2; i++) {
        const res = await postLogin(form, ip, WRONG);
        expect(res.status).toBe(401);
        expect(await res.text()).toContain('The e-mail address or password is incorrect.');
      }
      // The third failure uses up LOGIN_MAX_CONSECUTIVE_FAILURES: locked for LOGIN_LOCKOUT_SECONDS.
      const third = await postLogin(form, ip, WRONG);
      await expectLockedPage(third);
      expect(retryAfter(third)).toBeGreaterThan(50);
      expect(retryAfter(third)).toBeLessThanOrEqual(60);

      const right = await postLogin(form, ip, USER.password);
      const html = await expectLockedPage(right);
      expect(html).toMatch(/Try again in (1 minute|\d+ seconds)/);
      expect(retryAfter(right)).toBeLessThanOrEqual(60);
      expect(right.headers.get('location')).toBeNull();
      // The e-mail address in another case is the same account.
      await expectLockedPage(await postLogin(form, ip, USER.password, ' ADA@Example.com'));
    });

    it('still signs the right user in from another IP while the attacker’s IP is locked out', async () => {
      const attacker = '203.0.113.20';
      const form = await openLoginForm();
      for (let i = 0; i < 3; i++) await postLogin(form, attacker, WRONG);
      await expectLockedPage(await postLogin(form, attacker, USER.password));

      const user = await openLoginForm();
      await expectSignedIn(user, await postLogin(user, '198.51.100.20', USER.password));
    });

    it('forgets the failures of an account and IP after a successful sign-in', async () => {
      const ip = '203.0.113.30';
      const first = await openLoginForm();
      for (let i = 0; i < 2; i++) expect((await postLogin(first, ip, WRONG)).status).toBe(401);
      await expectSignedIn(first, await postLogin(first, ip, USER.password));
      // Two more failures do not reach the limit of three: the count started again.
      const second = await openLoginForm();
      for (let i = 0; i < 2; i++) expect((await postLogin(second, ip, WRONG)).status).toBe(401);
      await expectSignedIn(second, await postLogin(second, ip, USER.password));
    });

    it('doubles the lockout each time the same account and IP is locked out again', async () => {
      const ip = '203.0.113.40';
      const form = await openLoginForm();
      for (let i = 0; i < 2; i++) await postLogin(form, ip, WRONG);
      const firstLock = await postLogin(form, ip, WRONG);
      expect(firstLock.status).toBe(429);
      expect(retryAfter(firstLock)).toBeLessThanOrEqual(60);
      // The first lockout ends (its counter expires in Redis, as it would after 60 s); the
      // lockout count stays for LOGIN_FAILURE_WINDOW_SECONDS.
      await expireKeys(`${stack.config.redis.prefix}:ratelimit:login-account-ip:*:${ip}`);
      for (let i = 0; i < 2; i++) expect((await postLogin(form, ip, WRONG)).status).toBe(401);
      const secondLock = await postLogin(form, ip, WRONG);
      expect(secondLock.status).toBe(429);
      expect(retryAfter(secondLock)).toBeGreaterThan(60);
      expect(retryAfter(secondLock)).toBeLessThanOrEqual(120);
      expect(await secondLock.text()).toContain('Try again in 2 minutes');
    });

    it('limits the failures of one IP per day across accounts (password spraying)', async () => {
      const ip = '203.0.113.50';
      // LOGIN_MAX_FAILURES_PER_IP_PER_DAY is 6: six different addresses, one wrong password each.
      const form = await openLoginForm();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await postLogin(form, ip, WRONG, `user${i}@example.com`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const blocked = await postLogin(form, ip, USER.password);
      await expectLockedPage(blocked);
      expect(retryAfter(blocked)).toBeGreaterThan(23 * 3600);
      // Another IP is not affected.
      const user = await openLoginForm();
      await expectSignedIn(user, await postLogin(user, '198.51.100.50', USER.password));
    });

    it('shares the limits between two identity instances', async () => {
      const second = await stack.start(createIdentityApp, { IDENTITY_ISSUER: stack.identityUrl });
      const ip = '203.0.113.60';
      const form = await openLoginForm();
      expect((await postLogin(form, ip, WRONG, USER.email, stack.identityUrl)).status).toBe(401);
      expect((await postLogin(form, ip, WRONG, USER.email, second.url)).status).toBe(401);
      // The third failure, on the first instance, locks the account from this IP on both.
      await expectLockedPage(await postLogin(form, ip, WRONG, USER.email, stack.identityUrl));
      await expectLockedPage(await postLogin(form, ip, USER.password, USER.email, second.url));
      // And the right user from another IP signs in on the second instance.
      const user = await openLoginForm();
      await expectSignedIn(user, await postLogin(user, '198.51.100.60', USER.password, USER.email, second.url), second.url);
    });

    it('refuses a parallel attack before argon2, so a real sign-in during it is neither refused nor queued behind it', async () => {
      const users = stack.identity.get(UsersService);
      const verifications = jest.spyOn(users, 'verifyCredentials');
      try {
        const attackForm = await openLoginForm();
        const userForm = await openLoginForm();
        const attack = Array.from({ length: 24 }, () => postLogin(attackForm, '203.0.113.70', WRONG));
        const real = postLogin(userForm, '198.51.100.70', USER.password);
        const [attackAnswers, realAnswer] = await Promise.all([Promise.all(attack), real]);
        await expectSignedIn(userForm, realAnswer);
        const statuses = attackAnswers.map((r) => r.status).sort();
        // Three attempts (LOGIN_MAX_CONSECUTIVE_FAILURES) reached the password check; 21 were refused before it.
        expect(statuses.filter((s) => s === 429)).toHaveLength(22);
        expect(statuses.filter((s) => s === 401)).toHaveLength(2);
        // 3 attack attempts + the real user's: the other 21 attack requests hashed nothing.
        expect(verifications).toHaveBeenCalledTimes(4);
      } finally {
        verifications.mockRestore();
      }
    });
  });

  describe('client authentication at /token', () => {
    const token = (clientId: string, secret: string) =>
      fetch(`${stack.identityUrl}/token`, {
        method: 'POST',
        headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'client:self' }),
      });

    it('refuses a client_id after the configured wrong secrets with 429, even with the right secret', async () => {
      const backend = await createClient({ client_name: 'Backend', grant_types: ['client_credentials'] });
      const other = await createClient({ client_name: 'Other backend', grant_types: ['client_credentials'] });
      for (let i = 0; i < 2; i++) {
        const res = await token(backend.client_id, 'wrong-secret-0000000000000000');
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
      }
      const third = await token(backend.client_id, 'wrong-secret-0000000000000000');
      expect(third.status).toBe(429);
      expect(retryAfter(third)).toBeGreaterThan(590);

      const right = await token(backend.client_id, backend.client_secret);
      expect(right.status).toBe(429);
      expect(retryAfter(right)).toBeLessThanOrEqual(600);
      const body = (await right.json()) as { error: string; error_description: string; access_token?: string };
      expect(body.error).toBe('too_many_requests');
      expect(body.error_description).toMatch(/too many failed client authentications.*try again in \d+ minutes/);
      expect(body.access_token).toBeUndefined();

      // Other clients are not affected.
      expect((await token(other.client_id, other.client_secret)).status).toBe(200);
    });

    it('counts wrong secrets at the queue dashboard and the token endpoint together', async () => {
      const operator = await createClient({
        client_name: 'Operator',
        grant_types: ['client_credentials'],
        server_scopes: ['admin'],
      });
      const dashboard = (secret: string) =>
        fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: basic(operator.client_id, secret) } });
      expect((await dashboard(operator.client_secret)).status).toBe(200);
      expect((await dashboard('wrong')).status).toBe(401);
      expect((await token(operator.client_id, 'wrong')).status).toBe(401);
      const third = await dashboard('wrong');
      expect(third.status).toBe(429);
      const right = await dashboard(operator.client_secret);
      expect(right.status).toBe(429);
      expect(retryAfter(right)).toBeGreaterThan(0);
      expect(await right.json()).toEqual({
        error: 'too_many_requests',
        message: expect.stringMatching(/too many failed client authentications.*try again in/),
      });
      expect((await token(operator.client_id, operator.client_secret)).status).toBe(429);
    });
  });

  describe('the api', () => {
    it('refuses an IP with 429 after the configured bad server tokens, even with a good one; other IPs go on', async () => {
      const ip = '192.0.2.80';
      const bad = `${admin.slice(0, -4)}AAAA`;
      for (let i = 0; i < 2; i++) expect((await api('GET', '/v1/clients', undefined, bad, ip)).status).toBe(401);
      expect((await api('GET', '/v1/clients', undefined, bad, ip)).status).toBe(429);
      const good = await api('GET', '/v1/clients', undefined, admin, ip);
      expect(good.status).toBe(429);
      expect(retryAfter(good)).toBeGreaterThan(590);
      expect(await good.json()).toEqual({
        error: 'too_many_requests',
        message: expect.stringMatching(/too many failed server token authentications from this address; try again in/),
      });
      expect((await api('GET', '/v1/clients', undefined, admin, '192.0.2.81')).status).toBe(200);
      // Requests without a token are answered 401 and not counted.
      for (let i = 0; i < 4; i++) {
        const anonymous = await fetch(`${stack.apiUrl}/v1/clients`, { headers: { 'x-forwarded-for': '192.0.2.82' } });
        expect(anonymous.status).toBe(401);
      }
      expect((await api('GET', '/v1/clients', undefined, admin, '192.0.2.82')).status).toBe(200);
    });

    it('limits the logout events one emitting client posts per minute', async () => {
      const emitters = [];
      for (const name of ['Emitter one', 'Emitter two']) {
        const c = await createClient({ client_name: name, grant_types: ['client_credentials'], server_scopes: ['logout:emit'] });
        emitters.push(await stack.serverToken('logout:emit', { clientId: c.client_id, secret: c.client_secret }));
      }
      const emit = (tokenOf: string, i: number) => api('POST', '/v1/logout-events', { sub: `user-${i}` }, tokenOf);
      for (let i = 0; i < 5; i++) expect((await emit(emitters[0], i)).status).toBe(202);
      const over = await emit(emitters[0], 5);
      expect(over.status).toBe(429);
      expect(retryAfter(over)).toBeLessThanOrEqual(60);
      expect(await over.json()).toEqual({
        error: 'too_many_requests',
        message: expect.stringContaining('more than 5 logout events in a minute'),
      });
      // The other emitter has its own budget.
      expect((await emit(emitters[1], 0)).status).toBe(202);
    });
  });
});

/** Deletes Redis keys matching `pattern`, as their expiry would. */
async function expireKeys(pattern: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(pattern);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}
