import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { ApiClient, basicAuth, requestServerToken, startTestStack, TestStack } from '@slo/testing';
import { expectLockedPage, expireKeys, LoginForm, retryAfter } from './support/login-form';

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

describe('rate limits and lockout', () => {
  let stack: TestStack;
  let admin: ApiClient;
  let rp: { client_id: string; client_secret: string };

  const createClient = (body: Record<string, unknown>) =>
    admin.post<{ client_id: string; client_secret: string }>('/v1/clients', { body, expect: 201 });

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp, env: LIMITS });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Ada' });
    admin = stack.client(await stack.serverToken('admin'));
    rp = await createClient({ client_name: 'Web shop', redirect_uris: [REDIRECT] });
  });

  afterAll(() => stack?.close());

  const openLoginForm = () => LoginForm.open(stack.identityUrl, rp.client_id, REDIRECT, USER.email);

  describe('login', () => {
    it('keys the client by the address the trusted proxy saw: entries a client adds to X-Forwarded-For do not dodge a lockout', async () => {
      const ip = '203.0.113.77';
      const form = await openLoginForm();
      for (let i = 0; i < 3; i++) await form.post(`198.51.100.${i + 1}, ${ip}`, WRONG);
      // A new forged left-most entry, the same address appended by the (one) trusted proxy.
      await expectLockedPage(await form.post(`198.51.100.99, ${ip}`, USER.password));
    });

    it('locks an account out from one IP after the configured failures; the right password then gets 429 and does not sign in', async () => {
      const ip = '203.0.113.10';
      const form = await openLoginForm();
      for (let i = 1; i <= 2; i++) {
        const res = await form.post(ip, WRONG);
        expect(res.status).toBe(401);
        expect(await res.text()).toContain('The e-mail address or password is incorrect.');
      }
      // The third failure uses up LOGIN_MAX_CONSECUTIVE_FAILURES: locked for LOGIN_LOCKOUT_SECONDS.
      const third = await form.post(ip, WRONG);
      await expectLockedPage(third);
      expect(retryAfter(third)).toBeGreaterThan(50);
      expect(retryAfter(third)).toBeLessThanOrEqual(60);

      const right = await form.post(ip, USER.password);
      const html = await expectLockedPage(right);
      expect(html).toMatch(/Try again in (1 minute|\d+ seconds)/);
      expect(retryAfter(right)).toBeLessThanOrEqual(60);
      expect(right.headers.get('location')).toBeNull();
      // The e-mail address in another case is the same account.
      await expectLockedPage(await form.post(ip, USER.password, ' ADA@Example.com'));
    });

    it('still signs the right user in from another IP while the attacker’s IP is locked out', async () => {
      const attacker = '203.0.113.20';
      const form = await openLoginForm();
      for (let i = 0; i < 3; i++) await form.post(attacker, WRONG);
      await expectLockedPage(await form.post(attacker, USER.password));

      const user = await openLoginForm();
      await user.expectSignedIn(await user.post('198.51.100.20', USER.password));
    });

    it('forgets the failures of an account and IP after a successful sign-in', async () => {
      const ip = '203.0.113.30';
      const first = await openLoginForm();
      for (let i = 0; i < 2; i++) expect((await first.post(ip, WRONG)).status).toBe(401);
      await first.expectSignedIn(await first.post(ip, USER.password));
      // Two more failures do not reach the limit of three: the count started again.
      const second = await openLoginForm();
      for (let i = 0; i < 2; i++) expect((await second.post(ip, WRONG)).status).toBe(401);
      await second.expectSignedIn(await second.post(ip, USER.password));
    });

    it('doubles the lockout each time the same account and IP is locked out again', async () => {
      const ip = '203.0.113.40';
      const form = await openLoginForm();
      for (let i = 0; i < 2; i++) await form.post(ip, WRONG);
      const firstLock = await form.post(ip, WRONG);
      expect(firstLock.status).toBe(429);
      expect(retryAfter(firstLock)).toBeLessThanOrEqual(60);
      // The first lockout ends (its counter expires in Redis, as it would after 60 s); the
      // lockout count stays for LOGIN_FAILURE_WINDOW_SECONDS.
      await expireKeys(`${stack.config.redis.prefix}:ratelimit:login-account-ip:*:${ip}`);
      for (let i = 0; i < 2; i++) expect((await form.post(ip, WRONG)).status).toBe(401);
      const secondLock = await form.post(ip, WRONG);
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
      for (let i = 0; i < 6; i++) statuses.push((await form.post(ip, WRONG, `user${i}@example.com`)).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
      const blocked = await form.post(ip, USER.password);
      await expectLockedPage(blocked);
      expect(retryAfter(blocked)).toBeGreaterThan(23 * 3600);
      // Another IP is not affected.
      const user = await openLoginForm();
      await user.expectSignedIn(await user.post('198.51.100.50', USER.password));
    });

    it('shares the limits between two identity instances', async () => {
      const second = await stack.start('identity', { IDENTITY_ISSUER: stack.identityUrl });
      const ip = '203.0.113.60';
      const form = await openLoginForm();
      expect((await form.post(ip, WRONG, USER.email, stack.identityUrl)).status).toBe(401);
      expect((await form.post(ip, WRONG, USER.email, second.url)).status).toBe(401);
      // The third failure, on the first instance, locks the account from this IP on both.
      await expectLockedPage(await form.post(ip, WRONG, USER.email, stack.identityUrl));
      await expectLockedPage(await form.post(ip, USER.password, USER.email, second.url));
      // And the right user from another IP signs in on the second instance.
      const user = await openLoginForm();
      await user.expectSignedIn(await user.post('198.51.100.60', USER.password, USER.email, second.url), second.url);
    });

    it('refuses a parallel attack before argon2, so a real sign-in during it is neither refused nor queued behind it', async () => {
      const users = stack.identity.get(UsersService);
      const verifications = jest.spyOn(users, 'verifyCredentials');
      try {
        const attackForm = await openLoginForm();
        const userForm = await openLoginForm();
        const attack = Array.from({ length: 24 }, () => attackForm.post('203.0.113.70', WRONG));
        const real = userForm.post('198.51.100.70', USER.password);
        const [attackAnswers, realAnswer] = await Promise.all([Promise.all(attack), real]);
        await userForm.expectSignedIn(realAnswer);
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
      requestServerToken(stack.identityUrl, 'client:self', { clientId, secret });

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
        fetch(`${stack.apiUrl}/admin/queues`, {
          headers: { authorization: basicAuth({ clientId: operator.client_id, secret }) },
        });
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
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      const bad = admin.as(`${admin.token!.slice(0, -4)}AAAA`);
      for (let i = 0; i < 2; i++) await bad.get('/v1/clients', { headers: from('192.0.2.80'), expect: 401 });
      await bad.get('/v1/clients', { headers: from('192.0.2.80'), expect: 429 });
      const good = await admin.send('GET', '/v1/clients', { headers: from('192.0.2.80'), expect: 429 });
      expect(retryAfter(good)).toBeGreaterThan(590);
      expect(good.body).toEqual({
        error: 'too_many_requests',
        message: expect.stringMatching(/too many failed server token authentications from this address; try again in/),
      });
      await admin.get('/v1/clients', { headers: from('192.0.2.81'), expect: 200 });
      // Requests without a token are answered 401 and not counted.
      for (let i = 0; i < 4; i++) await admin.as().get('/v1/clients', { headers: from('192.0.2.82'), expect: 401 });
      await admin.get('/v1/clients', { headers: from('192.0.2.82'), expect: 200 });
    });

    it('limits the logout events one emitting client posts per minute', async () => {
      const emitters: ApiClient[] = [];
      for (const name of ['Emitter one', 'Emitter two']) {
        const c = await createClient({ client_name: name, grant_types: ['client_credentials'], server_scopes: ['logout:emit'] });
        emitters.push(admin.as(await stack.serverToken('logout:emit', c)));
      }
      const emit = (by: ApiClient, i: number, expect: number) =>
        by.send('POST', '/v1/logout-events', { body: { sub: `user-${i}` }, expect });
      for (let i = 0; i < 5; i++) await emit(emitters[0], i, 202);
      const over = await emit(emitters[0], 5, 429);
      expect(retryAfter(over)).toBeLessThanOrEqual(60);
      expect(over.body).toEqual({
        error: 'too_many_requests',
        message: expect.stringContaining('more than 5 logout events in a minute'),
      });
      // The other emitter has its own budget.
      await emit(emitters[1], 0, 202);
    });
  });
});
