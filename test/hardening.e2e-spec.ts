import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import {
  ApiClient,
  apiClient,
  HttpSession,
  RegisteredClient,
  registerClient,
  signIn,
  startTestStack,
  TestStack,
} from '@slo/testing';
import { createHash, randomBytes } from 'node:crypto';

const USER = { email: 'grace@example.com', password: 'correct horse battery' };
const METRICS_TOKEN = 'metrics-scrape-token-0123456789abcdef';
const REDIRECT = 'http://127.0.0.1:9/callback';

interface EventView {
  id: string;
  ended_sids: string[];
  initiator_client_id: string | null;
  deliveries?: { client_id: string; sid: string | null }[];
}

/** Smaller hardening of issue 11: framing, /metrics, the event view of a tenant, resource indicators at /auth. */
describe('smaller hardening', () => {
  let stack: TestStack;
  let admin: ApiClient;
  const tenants: Record<'a' | 'b', RegisteredClient> = {} as never;

  function authorizeUrl(clientId: string, extra: Record<string, string> = {}) {
    return `${stack.identityUrl}/auth?${new URLSearchParams({
      client_id: clientId,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
      state: 'st-1',
      code_challenge: createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    })}`;
  }

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp, env: { METRICS_TOKEN } });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Grace' });
    admin = stack.client(await stack.serverToken('admin'));
    for (const [key, scopes] of [
      ['a', ['client:self', 'logout:emit']],
      ['b', ['client:self']],
    ] as const) {
      tenants[key] = await registerClient(admin, null, `tenant-${key}`, {
        client_name: `Tenant ${key.toUpperCase()}`,
        redirect_uris: [REDIRECT],
        backchannel_logout_uri: `http://127.0.0.1:9/backchannel-${key}`,
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        server_scopes: scopes,
      });
    }
  });
  afterAll(() => stack?.close());

  describe('framing', () => {
    const expectNoFraming = (res: Response) => {
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    };

    it('the login page may not be framed', async () => {
      const page = await new HttpSession().follow(authorizeUrl('tenant-a'), stack.identityUrl);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<form method="post" action="[^"]+\/login"/);
      expectNoFraming(page);
    });

    it('the logout confirmation page and the provider’s error page may not be framed', async () => {
      const confirm = await new HttpSession().follow(`${stack.identityUrl}/session/end?client_id=tenant-a`, stack.identityUrl);
      expect(confirm.status).toBe(200);
      expect(await confirm.text()).toContain('<form');
      expectNoFraming(confirm);

      const error = await fetch(authorizeUrl('no-such-client'));
      expect(error.status).toBe(400);
      expectNoFraming(error);
    });
  });

  describe('/metrics', () => {
    it('refuses a scrape without the token or with a wrong one, naming neither clients nor metrics', async () => {
      for (const headers of [
        {},
        { authorization: 'Bearer wrong-token-0123456789abcdef0123456789' },
        { authorization: `Basic ${METRICS_TOKEN}` },
      ] as Record<string, string>[]) {
        const res = await fetch(`${stack.apiUrl}/metrics`, { headers });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toContain('Bearer');
        const body = await res.text();
        expect(body).toContain('METRICS_TOKEN');
        expect(body).not.toMatch(/tenant-|test-admin|slo_/);
      }
    });

    it('serves the metrics with the token', async () => {
      const body = await stack.client(METRICS_TOKEN).get<string>('/metrics', { expect: 200 });
      expect(body).toMatch(/^slo_process_cpu_seconds_total /m);
      expect(body).toMatch(/^slo_queue_jobs\{queue="delivery",state="waiting",shard="0"\} \d+$/m);
    });
  });

  describe('a tenant’s view of logout events', () => {
    let sub: string;
    let sidA: string;
    let sidB: string;
    let tenantA: ApiClient;
    let tenantB: ApiClient;

    beforeAll(async () => {
      // One user, two identity sessions: one with tenant A, one (another browser) with tenant B.
      const a = await signIn(stack, new HttpSession(), tenants.a, USER, 'openid email');
      const b = await signIn(stack, new HttpSession(), tenants.b, USER, 'openid email');
      expect(a.sid).not.toBe(b.sid);
      [sub, sidA, sidB] = [a.sub, a.sid, b.sid];
      tenantA = stack.client(await stack.serverToken('client:self logout:emit', tenants.a));
      tenantB = stack.client(await stack.serverToken('client:self', tenants.b));
    });

    const view = (as: ApiClient, id: string) => as.get<EventView>(`/v1/logout-events/${id}`, { expect: 200 });
    const list = async (as: ApiClient, query = '') =>
      (await as.get<{ data: EventView[] }>(`/v1/logout-events${query}`, { expect: 200 })).data;

    it('shows each tenant only the sessions the event told it about, and hides another client as initiator', async () => {
      const identity = apiClient(stack.identityUrl, admin.token);
      const { event_id: id } = await identity.post<{ event_id: string }>('/api/2/logout', { body: { sub }, expect: 200 });

      const operator = await view(admin, id);
      expect([...operator.ended_sids].sort()).toEqual([sidA, sidB].sort());
      expect(operator.initiator_client_id).toBe('test-admin');

      const seenByA = await view(tenantA, id);
      expect(seenByA).toMatchObject({ ended_sids: [sidA], initiator_client_id: null });
      expect(seenByA.deliveries!.map((d) => [d.client_id, d.sid])).toEqual([['tenant-a', sidA]]);
      const seenByB = await view(tenantB, id);
      expect(seenByB).toMatchObject({ ended_sids: [sidB], initiator_client_id: null });

      // The list says the same, and another tenant's session finds nothing.
      expect((await list(tenantA)).find((e) => e.id === id)).toMatchObject({ ended_sids: [sidA], initiator_client_id: null });
      expect((await list(tenantA, `?sid=${sidA}`)).map((e) => e.id)).toEqual([id]);
      expect(await list(tenantA, `?sid=${sidB}`)).toEqual([]);
      expect((await list(admin, `?sid=${sidB}`)).map((e) => e.id)).toEqual([id]);
    });

    it('names the initiator to the initiating tenant and to operators only', async () => {
      const body = { sub, target_clients: ['tenant-a', 'tenant-b'] };
      const { event_id: id } = await tenantA.post<{ event_id: string }>('/v1/logout-events', { body, expect: 202 });
      expect((await view(tenantA, id)).initiator_client_id).toBe('tenant-a');
      expect((await view(tenantB, id)).initiator_client_id).toBeNull();
      expect((await view(admin, id)).initiator_client_id).toBe('tenant-a');
      expect((await list(tenantB)).find((e) => e.id === id)?.initiator_client_id).toBeNull();
    });
  });

  describe('resource indicators at /auth', () => {
    /** Follows the identity's redirects like a browser, at most `max` hops; returns the last response and the hops. */
    async function browse(session: HttpSession, url: string, max = 8) {
      const hops: string[] = [url];
      let res = await session.request(url);
      while (res.status >= 300 && res.status < 400 && hops.length <= max) {
        const next = new URL(res.headers.get('location')!, url);
        if (next.origin !== stack.identityUrl) return { res, hops, location: next };
        hops.push((url = next.href));
        res = await session.request(url);
      }
      return { res, hops, location: null };
    }

    it.each([
      ['the api', () => stack.config.api.audience],
      ['an unknown resource', () => 'https://elsewhere.example.com'],
    ])('answers a request for %s with invalid_target, not a loop, signed in or not', async (_what, resource) => {
      const signedIn = new HttpSession();
      await signIn(stack, signedIn, tenants.a, USER, 'openid email');
      for (const session of [new HttpSession(), signedIn]) {
        const { res, hops, location } = await browse(session, authorizeUrl('tenant-a', { resource: resource() }));
        expect(hops.length).toBeLessThanOrEqual(3);
        expect(res.status).toBe(303);
        expect(location?.origin + location!.pathname).toBe(REDIRECT);
        expect(location!.searchParams.get('error')).toBe('invalid_target');
        expect(location!.searchParams.get('state')).toBe('st-1');
        expect(location!.searchParams.get('code')).toBeNull();
      }
    });

    it('still issues server tokens for the api with client_credentials', async () => {
      const tenantB = stack.client(await stack.serverToken('client:self', tenants.b));
      await tenantB.get('/v1/clients/me', { expect: 200 });
    });
  });
});
