import { SignedIn, TEST_ADMIN } from '@slo/testing';
import { BAD_PERCENT, enc, FuzzRequest, HOSTILE_STRINGS, hostileAuthorizations, WRONG_TYPES } from './fuzz';
import { authParams, formOf, FuzzContext, paramVariants, ParamTarget } from './fuzz-params';
import { ORIGIN, POST_LOGOUT, REDIRECT, USER } from './fuzz-stack';

/** What the identity requests are made of: its URL, the fuzz client and its sign-in, an admin token of identity. */
interface IdentityFuzzTarget {
  identityUrl: string;
  rp: { client_id: string; client_secret: string };
  signed: SignedIn;
  identityAdmin: string;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** A live sign-in interaction: its uid and the cookie that binds it to this "browser". */
async function openInteraction(identityUrl: string, clientId: string): Promise<{ uid: string; cookie: string }> {
  const res = await fetch(`${identityUrl}/auth?${formOf(authParams(clientId))}`, { redirect: 'manual' });
  const uid = /\/interaction\/([^/?]+)/.exec(res.headers.get('location') ?? '')?.[1];
  if (!uid) throw new Error(`no interaction: ${res.status}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { uid, cookie };
}

/**
 * The hostile requests to identity: every parameter of the OAuth, logout, session and SDK routes
 * hostile in turn (in the query or a form body), hostile Authorization headers, origins, paths and
 * cookies, and hostile login forms against live sign-in interactions.
 */
export async function identityRequests(ctx: FuzzContext, t: IdentityFuzzTarget): Promise<FuzzRequest[]> {
  const id = t.identityUrl;
  const out: FuzzRequest[] = [];
  const add = (group: string, cls: string, method: string, path: string, headers?: Record<string, string>, body?: string) =>
    out.push({ group, cls, method, url: `${id}${path}`, headers, body });
  const variants = (
    ...targets: [string, string, string, Record<string, string>, 'query' | 'form', Record<string, string>?][]
  ) => {
    for (const [group, method, path, params, where, headers] of targets) {
      const target: ParamTarget = { group, method, url: `${id}${path}`, params, where, headers };
      out.push(...paramVariants(ctx, target));
    }
  };
  const rpBasic = {
    authorization: `Basic ${Buffer.from(`${enc(t.rp.client_id)}:${enc(t.rp.client_secret)}`).toString('base64')}`,
  };
  const bearerAdmin = { authorization: `Bearer ${t.identityAdmin}` };
  const endSession = {
    id_token_hint: t.signed.idToken,
    post_logout_redirect_uri: POST_LOGOUT,
    state: 'fuzz',
    client_id: t.rp.client_id,
    logout_hint: 'x',
    ui_locales: 'en',
  };
  const code = { grant_type: 'authorization_code', code: 'fuzz-code', code_verifier: 'v'.repeat(43), redirect_uri: REDIRECT };
  const secretPost = { grant_type: 'client_credentials', scope: 'admin', client_id: TEST_ADMIN.clientId, client_secret: 'wrong' };
  const ofRp = { client_id: t.rp.client_id };
  variants(
    ['identity GET /auth', 'GET', '/auth', authParams(t.rp.client_id), 'query'],
    ['identity POST /auth', 'POST', '/auth', authParams(t.rp.client_id), 'form'],
    ['identity POST /token code', 'POST', '/token', code, 'form', rpBasic],
    [
      'identity POST /token refresh',
      'POST',
      '/token',
      { grant_type: 'refresh_token', refresh_token: 'fuzz-refresh' },
      'form',
      rpBasic,
    ],
    ['identity POST /token client_secret_post', 'POST', '/token', secretPost, 'form'],
    [
      'identity POST /token/revocation',
      'POST',
      '/token/revocation',
      { token: 'fuzz-token', token_type_hint: 'access_token' },
      'form',
      rpBasic,
    ],
    ['identity GET /me', 'GET', '/me', { access_token: 'fuzz' }, 'query'],
    ['identity POST /me', 'POST', '/me', { access_token: 'fuzz' }, 'form'],
    ['identity GET /session/end', 'GET', '/session/end', endSession, 'query'],
    ['identity POST /session/end', 'POST', '/session/end', endSession, 'form'],
    ['identity POST /session/end/confirm', 'POST', '/session/end/confirm', { xsrf: 'fuzz', logout: 'yes' }, 'form'],
    ['identity GET /session/end/success', 'GET', '/session/end/success', ofRp, 'query'],
    ['identity GET /logout', 'GET', '/logout', { ...ofRp, redirect_uri: POST_LOGOUT, oauth_token: 'fuzz-token' }, 'query'],
    ['identity /api/2/logout', 'POST', '/api/2/logout', { sub: 'fuzz-sub' }, 'form', bearerAdmin],
    ['identity /api/2/logout', 'GET', '/api/2/logout', { sub: 'fuzz-sub' }, 'query', bearerAdmin],
    ['identity GET /api/2/session', 'GET', '/api/2/session', ofRp, 'query', { origin: ORIGIN }],
    ['identity OPTIONS /api/2/session', 'OPTIONS', '/api/2/session', ofRp, 'query', { origin: ORIGIN }],
    [
      'identity POST /api/2/session/logout',
      'POST',
      '/api/2/session/logout',
      ofRp,
      'query',
      { origin: ORIGIN, 'x-spid-request': '1' },
    ],
  );
  for (const [cls, value] of hostileAuthorizations()) {
    add(
      'identity POST /token basic',
      cls,
      'POST',
      '/token',
      { authorization: value, ...FORM },
      'grant_type=client_credentials&scope=admin',
    );
    add('identity GET /me', cls, 'GET', '/me', { authorization: value });
    add('identity /api/2/logout', cls, 'POST', '/api/2/logout', { authorization: value });
  }
  for (const [cls, value] of [...HOSTILE_STRINGS, ...WRONG_TYPES]) {
    const json = { ...bearerAdmin, 'content-type': 'application/json' };
    add('identity /api/2/logout', `${cls} json.sub`, 'POST', '/api/2/logout', json, JSON.stringify({ sub: value }));
  }
  add('identity /api/2/logout', 'user token', 'POST', '/api/2/logout', { authorization: `Bearer ${t.signed.accessToken}x` });
  for (const origin of ['null', 'http://evil.example', '\u00e9', `http://${'a'.repeat(3000)}`, ' '])
    add('identity GET /api/2/session', 'header origin', 'GET', `/api/2/session?client_id=${t.rp.client_id}`, { origin });
  for (const [cls, value] of HOSTILE_STRINGS)
    if (value) add('identity GET /sdk/:file', `${cls} path.file`, 'GET', `/sdk/${enc(value)}`);
  for (const bad of BAD_PERCENT) add('identity GET /sdk/:file', 'percent path.file', 'GET', `/sdk/${bad}`);
  for (const tag of ['\t', '\u00e9', 'W/'.repeat(2000), '*'])
    add('identity GET /sdk/:file', 'header if-none-match', 'GET', '/sdk/spid.js', { 'if-none-match': tag });
  for (const path of [
    '/jwks',
    '/.well-known/openid-configuration',
    '/health/live',
    '/health/ready',
    '/sdk/manifest.json',
    '/nope/%zz',
    '/%00',
    '/interaction',
    '/session/end/%zz',
    '/auth/%zz',
    '/token/%00',
  ]) {
    for (const q of ['', '?%zz=1', '?a=%00', '?a=%E0%A4%A']) add('identity misc', 'misc', 'GET', `${path}${q}`);
  }

  // Interactions: hostile uids, and hostile login forms against a live sign-in.
  const live = await openInteraction(id, t.rp.client_id);
  const withLive = { cookie: live.cookie };
  for (const [cls, value] of HOSTILE_STRINGS) {
    if (!value) continue;
    add('identity GET /interaction/:uid', `${cls} path.uid`, 'GET', `/interaction/${enc(value)}`, withLive);
    add(
      'identity POST /interaction/:uid/login',
      `${cls} path.uid`,
      'POST',
      `/interaction/${enc(value)}/login`,
      { ...withLive, ...FORM },
      formOf(USER),
    );
  }
  for (const bad of BAD_PERCENT)
    add('identity GET /interaction/:uid', 'percent path.uid', 'GET', `/interaction/${bad}`, withLive);
  for (const cookie of [
    '_interaction=\u00e9',
    '_interaction=%zz; _interaction.sig=%00',
    `_interaction=${'a'.repeat(3000)}`,
    '=; ;;',
    live.cookie.replace(/=/g, '=x'),
  ]) {
    add('identity GET /interaction/:uid', 'cookie', 'GET', `/interaction/${live.uid}`, { cookie });
  }
  const wrongUser = { email: 'fuzz-nobody@example.com', password: 'wrong password' };
  variants(['identity POST /interaction/:uid/login', 'POST', `/interaction/${live.uid}/login`, wrongUser, 'form', withLive]);
  for (const [cls, value] of WRONG_TYPES) {
    const json = { ...withLive, 'content-type': 'application/json' };
    add(
      'identity POST /interaction/:uid/login',
      `${cls} json.email`,
      'POST',
      `/interaction/${live.uid}/login`,
      json,
      JSON.stringify({ email: value, password: value }),
    );
  }
  const aborting = await openInteraction(id, t.rp.client_id);
  variants([
    'identity POST /interaction/:uid/abort',
    'POST',
    `/interaction/${aborting.uid}/abort`,
    { x: '1' },
    'form',
    { cookie: aborting.cookie },
  ]);
  return out;
}
