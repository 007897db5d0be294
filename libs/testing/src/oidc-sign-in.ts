import { createHash, randomBytes } from 'node:crypto';
import { HttpSession } from './http-session';
import { basicAuth } from './server-token';

export interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uri: string;
}

export interface SignedIn {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** `sid` of the ID token: the identity session. */
  sid: string;
  sub: string;
  /** The authorization code the tokens were exchanged for (used up). */
  code: string;
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Signs `client` in through the real authorization endpoint and login form, in `session`'s cookie
 * jar (a second client in the same jar joins the same identity session without a second login),
 * and exchanges the code for tokens. `identity` is its URL or a test stack.
 */
export async function signIn(
  identity: string | { identityUrl: string },
  session: HttpSession,
  client: TestClient,
  user: { email: string; password: string },
  scope = 'openid email offline_access',
): Promise<SignedIn> {
  const identityUrl = typeof identity === 'string' ? identity : identity.identityUrl;
  const verifier = randomBytes(32).toString('base64url');
  const authorize = `${identityUrl}/auth?${new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: client.redirect_uri,
    response_type: 'code',
    scope,
    prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })}`;
  let res = await session.follow(authorize, identityUrl);
  if (res.status === 200) {
    const html = await res.text();
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    if (!action) throw new Error(`expected the login form, got: ${html.slice(0, 300)}`);
    const posted = await session.postForm(new URL(action, identityUrl).href, user);
    res = await session.follow(new URL(posted.headers.get('location')!, identityUrl).href, identityUrl);
  }
  const location = res.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  if (!code) throw new Error(`no authorization code: ${res.status} ${location ?? (await res.text()).slice(0, 300)}`);
  const tokenRes = await fetch(`${identityUrl}/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuth(client),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: client.redirect_uri,
    }),
  });
  const tokens = (await tokenRes.json()) as { id_token: string; access_token: string; refresh_token?: string };
  if (tokenRes.status !== 200) throw new Error(`token exchange failed: ${tokenRes.status} ${JSON.stringify(tokens)}`);
  const claims = claimsOf(tokens.id_token);
  return {
    idToken: tokens.id_token,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    sid: claims.sid as string,
    sub: claims.sub as string,
    code,
  };
}
