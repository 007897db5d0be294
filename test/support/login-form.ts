import { HttpSession, TEST_REDIS_URL } from '@slo/testing';
import Redis from 'ioredis';
import { createHash, randomBytes } from 'node:crypto';

/** A browser at the login form of a fresh authorization request, posting it as client addresses of its choosing. */
export class LoginForm {
  private constructor(
    readonly session: HttpSession,
    /** Path of the form's action (/interaction/<uid>/login), valid on every identity instance. */
    private readonly action: string,
    private readonly identityUrl: string,
    private readonly email: string,
  ) {}

  /** Opens the login form of `clientId` on `identityUrl`; `email` is who posts it unless a post says otherwise. */
  static async open(identityUrl: string, clientId: string, redirectUri: string, email: string): Promise<LoginForm> {
    const session = new HttpSession();
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const authorize = `${identityUrl}/auth?${new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
    const page = await session.follow(authorize, identityUrl);
    expect(page.status).toBe(200);
    const action = /<form method="post" action="([^"]+\/login)"/.exec(await page.text())?.[1];
    expect(action).toBeDefined();
    return new LoginForm(session, action!, identityUrl, email);
  }

  /** Posts the form from client address `ip` (X-Forwarded-For), to another identity instance if `base` is given. */
  post(ip: string, password: string, email = this.email, base = this.identityUrl): Promise<Response> {
    return this.session.request(`${base}${this.action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
      body: new URLSearchParams({ email, password }),
    });
  }

  /** The sign-in went through: the login answered a redirect that resumes to the client with a code. */
  async expectSignedIn(res: Response, base = this.identityUrl): Promise<void> {
    expect(res.status).toBe(303);
    const back = await this.session.follow(new URL(res.headers.get('location')!, base).href, base);
    expect(new URL(back.headers.get('location')!).searchParams.get('code')).toBeTruthy();
  }
}

/** The lockout page: a 429 HTML page saying so, with the login form again; returns its HTML. */
export async function expectLockedPage(res: Response): Promise<string> {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toContain('text/html');
  const html = await res.text();
  expect(html).toContain('Too many failed sign-in attempts');
  expect(html).toMatch(/<form method="post" action="[^"]+\/login"/);
  return html;
}

/** The Retry-After of an answer, which must be whole seconds. */
export function retryAfter(res: { headers: Headers }): number {
  const value = res.headers.get('retry-after');
  expect(value).toMatch(/^\d+$/);
  return Number(value);
}

/** Deletes Redis keys matching `pattern` (there must be some), as their expiry would. */
export async function expireKeys(pattern: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const keys = await redis.keys(pattern);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}
