import { apiClient, ApiClient, freePort, registerClient, RegisteredClient } from '@slo/testing';
import express, { type RequestHandler } from 'express';
import { auth, type ConfigParams } from 'express-openid-connect';
import { once } from 'node:events';
import { MemoryStore } from '../../apps/demo/src/memory-store';

export interface RelyingParty {
  url: string;
  clientId: string;
  /** The api's answer to its registration (with the one-time `client_secret`). */
  client: RegisteredClient;
  /** Back-channel logout requests the app received, with its answer. */
  backchannelHits: number[];
  /** The logout tokens those requests carried. */
  logoutTokens: string[];
  close(): Promise<void>;
}

/**
 * A relying party built with express-openid-connect (a library none of us wrote), registered as
 * `clientId` through the api (`admin`, expecting 201) on a free loopback port: its callback,
 * post-logout URIs (`/` with and without the slash) and back channel there, `extra` adding fields.
 * Routes: `/login`, `/callback`, `/logout` (RP-initiated, GET), `/backchannel-logout`, and
 * `/profile`, which answers 200 with the user or 401 once the app has logged the user out.
 * `/logout-post` is RP-initiated logout by POST (an auto-submitting form to end_session_endpoint
 * with `id_token_hint`, `post_logout_redirect_uri` and `state`); it leaves the app's own session
 * alone, so only the back channel can end it. `/tokens` shows the app's tokens.
 * With `offlineAccess`, sign-in asks for `offline_access` (and `prompt=consent`, as it must).
 */
export async function startRelyingParty(
  admin: ApiClient,
  issuer: string,
  clientId: string,
  opts: { extra?: Record<string, unknown>; offlineAccess?: boolean } = {},
): Promise<RelyingParty> {
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const client = await registerClient(admin, null, clientId, {
    redirect_uris: [`${baseURL}/callback`],
    post_logout_redirect_uris: [baseURL, `${baseURL}/`],
    backchannel_logout_uri: `${baseURL}/backchannel-logout`,
    ...opts.extra,
  });
  const app = express();
  const backchannelHits: number[] = [];
  const logoutTokens: string[] = [];
  // Parsed here to see the token; express-openid-connect then uses the parsed body as it is.
  app.use('/backchannel-logout', express.urlencoded({ extended: false }), (req, res, next) => {
    const body = req.body as { logout_token?: string } | undefined;
    if (body?.logout_token) logoutTokens.push(body.logout_token);
    res.on('finish', () => backchannelHits.push(res.statusCode));
    next();
  });
  const config: ConfigParams = {
    issuerBaseURL: issuer,
    baseURL,
    clientID: clientId,
    clientSecret: client.client_secret,
    secret: `rp-cookie-secret-${clientId}-0123456789abcdef`,
    authRequired: false,
    idpLogout: true,
    backchannelLogout: { store: new MemoryStore() as never },
    authorizationParams: opts.offlineAccess
      ? { response_type: 'code', scope: 'openid email offline_access', prompt: 'consent' }
      : { response_type: 'code', scope: 'openid email' },
  };
  const discovery = '/.well-known/openid-configuration';
  const { end_session_endpoint } = await apiClient(issuer).get<{ end_session_endpoint: string }>(discovery, { expect: 200 });
  const signedIn: RequestHandler = (req, res, next) =>
    req.oidc.isAuthenticated() ? next() : void res.status(401).json({ logged_in: false });
  app.use(auth(config));
  app.get('/logout-post', signedIn, (req, res) => {
    const fields = { id_token_hint: req.oidc.idToken!, post_logout_redirect_uri: `${baseURL}/`, state: 'rp-state-1' };
    const inputs = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`);
    const submit = '<script>document.forms[0].submit()</script>';
    res.type('html').send(`<form method="post" action="${end_session_endpoint}">${inputs.join('')}</form>${submit}`);
  });
  app.get('/tokens', signedIn, (req, res) => {
    const { refreshToken, accessToken, idToken } = req.oidc;
    res.json({ refresh_token: refreshToken ?? null, access_token: accessToken?.access_token ?? null, id_token: idToken });
  });
  app.get('/profile', signedIn, (req, res) => {
    res.json({ logged_in: true, sub: req.oidc.user?.sub, sid: req.oidc.idTokenClaims?.sid });
  });
  const server = app.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { url: baseURL, clientId, client, backchannelHits, logoutTokens, close };
}
