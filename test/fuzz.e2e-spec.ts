import { createApiApp } from '../apps/api/src/api.app';
import { createIdentityApp } from '../apps/identity/src/identity.app';
import { UsersService } from '@slo/accounts';
import { HttpSession, signIn, SignedIn, startTestStack, TEST_ADMIN, TestStack } from '@slo/testing';
import { createHash, randomBytes } from 'node:crypto';
import {
  BAD_PERCENT,
  bodyVariants,
  enc,
  FuzzRequest,
  HOSTILE_STRINGS,
  hostileFor,
  pick,
  hostileAuthorizations,
  namesProblem,
  OpenApiDoc,
  operations,
  randomBytesFrom,
  sampleValue,
  seededRandom,
  WRONG_TYPES,
} from './support/fuzz';

/**
 * Hostile input against every operation of the api's OpenAPI document and every identity route:
 * control characters, broken Unicode, over-long strings, wrong types, bad dates, UUIDs and cursors,
 * deep and huge JSON, garbage compression, wrong content types and bad percent-encoding; with an
 * admin server token and without. No answer may be a 5xx, and every 4xx names its problem.
 * Set FUZZ_SEED to reproduce a run (the seed is printed with every report); FUZZ_TIMING=1 prints
 * where the time went, by route group and class.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const CONCURRENCY = 6;
const USER = { email: 'fuzz-user@example.com', password: 'fuzz user password 1' };
const REDIRECT = 'http://127.0.0.1:9/callback';
const POST_LOGOUT = 'http://127.0.0.1:9/';
const ORIGIN = 'http://127.0.0.1:9';

interface Outcome {
  req: FuzzRequest;
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

const describeReq = (r: FuzzRequest) => {
  const body =
    r.body === undefined
      ? ''
      : ` body=${JSON.stringify(String(Buffer.isBuffer(r.body) ? r.body.toString('latin1') : r.body).slice(0, 160))}`;
  const headers = r.headers ? ` headers=${JSON.stringify(r.headers).slice(0, 200)}` : '';
  return `[${r.cls}] ${r.method} ${r.url.slice(0, 240)}${headers}${body}`;
};

async function send(r: FuzzRequest): Promise<Outcome> {
  const started = Date.now();
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { req: r, status: res.status, contentType: res.headers.get('content-type') ?? '', text, ms: Date.now() - started };
  } catch (err) {
    // A dropped connection or no answer at all is as bad as a 5xx.
    return {
      req: r,
      status: 599,
      contentType: '',
      text: `no answer: ${(err as Error).cause ?? (err as Error).message}`,
      ms: Date.now() - started,
    };
  }
}

async function runAll(requests: FuzzRequest[]): Promise<Outcome[]> {
  const out: Outcome[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const i = next++;
        out[i] = await send(requests[i]);
      }
    }),
  );
  return out;
}

/** Failures: every 5xx (or missing answer), and every 4xx whose body does not say what is wrong. */
function failures(outcomes: Outcome[]): { serverErrors: string[]; unnamed: string[]; summary: string } {
  const serverErrors: string[] = [];
  const unnamed: string[] = [];
  const groups = new Map<string, { total: number; bad: number }>();
  for (const o of outcomes) {
    const g = groups.get(o.req.group) ?? { total: 0, bad: 0 };
    g.total++;
    const line = `${o.status} ${describeReq(o.req)} -> ${JSON.stringify(o.text.slice(0, 200))}`;
    if (o.status >= 500) {
      serverErrors.push(line);
      g.bad++;
    } else if (o.status >= 400 && !namesProblem(o.contentType, o.text)) {
      unnamed.push(`${line} (${o.contentType || 'no content-type'})`);
      g.bad++;
    }
    groups.set(o.req.group, g);
  }
  const bad = [...groups].filter(([, g]) => g.bad > 0);
  const summary = `seed ${SEED}: ${outcomes.length} requests, ${serverErrors.length} 5xx, ${unnamed.length} unnamed 4xx, on ${bad.length} of ${groups.size} route groups${bad.length ? `: ${bad.map(([k, g]) => `${k} (${g.bad}/${g.total})`).join(', ')}` : ''}`;
  return { serverErrors, unnamed, summary };
}

function report(outcomes: Outcome[]) {
  const f = failures(outcomes);
  if (process.env.FUZZ_TIMING) {
    const t = new Map<string, number>();
    for (const o of outcomes)
      t.set(`${o.req.group} ${o.req.cls.split(' ')[0]}`, (t.get(`${o.req.group} ${o.req.cls.split(' ')[0]}`) ?? 0) + o.ms);
    console.log(
      [...t]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([k, v]) => `${v} ms ${k}`)
        .join('\n'),
    );
  }
  console.log([f.summary, ...f.serverErrors.slice(0, 300), ...f.unnamed.slice(0, 200)].join('\n'));
  return f;
}

const formOf = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('hostile input: no 5xx, every refusal names its problem', () => {
  let stack: TestStack;
  let admin: string;
  let rp: { client_id: string; client_secret: string };
  let signed: SignedIn;
  const rand = seededRandom(SEED);

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    stack = await startTestStack({ identity: createIdentityApp, api: createApiApp });
    await stack.identity.get(UsersService).create({ ...USER, name: 'Fuzz' });
    admin = await stack.serverToken('admin client:self logout:emit');
    const created = await api('POST', '/v1/clients', {
      client_id: 'fuzz-rp',
      client_name: 'Fuzz RP',
      redirect_uris: [REDIRECT],
      post_logout_redirect_uris: [POST_LOGOUT],
      web_origins: [ORIGIN],
    });
    expect(created.status).toBe(201);
    rp = (await created.json()) as typeof rp;
    expect((await api('POST', '/v1/clients', { client_id: 'fuzz-target', client_name: 'Fuzz target' })).status).toBe(201);
    signed = await signIn(stack.identityUrl, new HttpSession(), { ...rp, redirect_uri: REDIRECT }, USER);
  });
  afterAll(() => stack?.close());

  /** The base authorization request of the fuzz client. */
  function authParams(): Record<string, string> {
    const verifier = randomBytes(32).toString('base64url');
    return {
      client_id: rp.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: 'openid email',
      state: 'fuzz-state',
      nonce: 'fuzz-nonce',
      login_hint: 'fuzz-user@example.com',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
  }

  /** A live sign-in interaction: its uid and the cookie that binds it to this "browser". */
  async function openInteraction(): Promise<{ uid: string; cookie: string }> {
    const res = await fetch(`${stack.identityUrl}/auth?${formOf(authParams())}`, { redirect: 'manual' });
    const uid = /\/interaction\/([^/?]+)/.exec(res.headers.get('location') ?? '')?.[1];
    if (!uid) throw new Error(`no interaction: ${res.status}`);
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { uid, cookie };
  }

  /** Variants of one request whose parameters are in the query string or a form body. */
  function paramVariants(
    group: string,
    method: string,
    url: string,
    params: Record<string, string>,
    where: 'query' | 'form',
    headers: Record<string, string> = {},
  ): FuzzRequest[] {
    const out: FuzzRequest[] = [];
    const build = (raw: string, cls: string): FuzzRequest =>
      where === 'query'
        ? { group, cls, method, url: `${url}?${raw}`, headers }
        : {
            group,
            cls,
            method,
            url,
            headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
            body: raw,
          };
    const others = (name: string) =>
      Object.entries(params)
        .filter(([k]) => k !== name)
        .map(([k, v]) => `${enc(k)}=${enc(v)}`);
    for (const name of Object.keys(params)) {
      for (const [cls, value] of hostileFor(rand, 10, name))
        out.push(build([...others(name), `${enc(name)}=${enc(value)}`].join('&'), `${cls} ${where}.${name}`));
      for (const bad of BAD_PERCENT)
        out.push(build([...others(name), `${enc(name)}=${bad}`].join('&'), `percent ${where}.${name}`));
      out.push(build([...others(name), `${enc(name)}=a`, `${enc(name)}=b`].join('&'), `repeated ${where}.${name}`));
      out.push(build([...others(name), `${enc(name)}[x]=1`].join('&'), `bracket ${where}.${name}`));
      out.push(build([...others(name), enc(name)].join('&'), `no-value ${where}.${name}`));
    }
    const all = Object.entries(params).map(([k, v]) => `${enc(k)}=${enc(v)}`);
    out.push(build(all.join('&'), `base ${where}`));
    out.push(build([...all, '%00=1'].join('&'), `control ${where} key`));
    out.push(build([...all, 'x%01y=1'].join('&'), `control ${where} key`));
    out.push(build([...all, '%zz=1'].join('&'), `percent ${where} key`));
    if (where === 'form') {
      const valid = all.join('&');
      for (const [cls, h, body] of bodyVariants(rand, JSON.stringify(params), stack.config.http.bodyLimitBytes)) {
        out.push({ group, cls, method, url, headers: { ...headers, ...h }, body });
      }
      out.push({
        group,
        cls: 'huge-body form',
        method,
        url,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: `${valid}&x=${'a'.repeat(200_000)}`,
      });
      out.push({
        group,
        cls: 'gzip garbage form',
        method,
        url,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
        body: randomBytesFrom(rand, 80),
      });
      out.push({ group, cls: 'no body', method, url, headers });
      out.push({
        group,
        cls: 'content-type text/plain form',
        method,
        url,
        headers: { ...headers, 'content-type': 'text/plain' },
        body: valid,
      });
      out.push({
        group,
        cls: 'multipart form',
        method,
        url,
        headers: { ...headers, 'content-type': 'multipart/form-data; boundary=b' },
        body: `--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx@y\r\n--b--\r\n`,
      });
    }
    return out;
  }

  function apiRequests(doc: OpenApiDoc): FuzzRequest[] {
    const out: FuzzRequest[] = [];
    const pathBase: Record<string, string> = {
      clientId: 'fuzz-target',
      id: '01900000-0000-7000-8000-000000000000',
      sid: 'fuzz-sid',
      sub: 'fuzz-sub',
    };
    // Operations that delete go last, so the others still find the fuzz client.
    const ops = operations(doc).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    for (const op of ops) {
      const group = `api ${op.method} ${op.path}`;
      const pathWith = (name?: string, raw?: string) =>
        op.path.replace(/\{(\w+)\}/g, (_, p: string) => (p === name ? raw! : enc(pathBase[p] ?? `fuzz-${p}`)));
      const baseQuery = Object.entries(op.query)
        .filter(([k]) => k === 'limit')
        .map(([k, s]) => `${k}=${enc(String(sampleValue(doc, k, s)))}`);
      const baseBody: Record<string, unknown> = {};
      for (const name of op.body?.required ?? []) baseBody[name] = sampleValue(doc, name, op.body!.properties[name]);
      const hasBody = ['POST', 'PATCH', 'PUT', 'DELETE'].includes(op.method);
      const json = { 'content-type': 'application/json' };
      const req = (
        cls: string,
        path: string,
        query: string[],
        body?: unknown,
        headers: Record<string, string> = {},
      ): FuzzRequest => ({
        group,
        cls,
        method: op.method,
        url: `${stack.apiUrl}${path}${query.length ? `?${query.join('&')}` : ''}`,
        headers: hasBody ? { ...json, ...headers } : headers,
        body: hasBody ? (typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body ?? baseBody)) : undefined,
      });
      const variants: FuzzRequest[] = [];
      variants.push(req('base', pathWith(), baseQuery));
      for (const p of op.pathParams) {
        for (const [cls, value] of HOSTILE_STRINGS)
          if (value) variants.push(req(`${cls} path.${p}`, pathWith(p, enc(value)), baseQuery));
        for (const bad of BAD_PERCENT) variants.push(req(`percent path.${p}`, pathWith(p, bad), baseQuery));
      }
      variants.push(req('percent path', `${pathWith()}/%zz`, baseQuery));
      variants.push(req('control path', `${pathWith()}%00`, baseQuery));
      for (const name of Object.keys(op.query)) {
        const others = baseQuery.filter((q) => !q.startsWith(`${name}=`));
        for (const [cls, value] of hostileFor(rand, 12, name))
          variants.push(req(`${cls} query.${name}`, pathWith(), [...others, `${name}=${enc(value)}`]));
        for (const bad of BAD_PERCENT) variants.push(req(`percent query.${name}`, pathWith(), [...others, `${name}=${bad}`]));
        variants.push(req(`repeated query.${name}`, pathWith(), [...others, `${name}=1`, `${name}=2`]));
        variants.push(req(`bracket query.${name}`, pathWith(), [...others, `${name}[a]=1`]));
      }
      variants.push(req('control query key', pathWith(), [...baseQuery, '%00=1']));
      variants.push(req('percent query key', pathWith(), [...baseQuery, '%zz=1']));
      for (const name of op.headers) {
        for (const value of ['\tx', '\u00e9\u00ff', 'k'.repeat(4000), ' '])
          variants.push(req(`header ${name}`, pathWith(), baseQuery, undefined, { [name]: value }));
      }
      if (op.body) {
        for (const name of Object.keys(op.body.properties)) {
          for (const [cls, value] of [...hostileFor(rand, 6, name), ...pick(rand, WRONG_TYPES, 4)])
            variants.push(req(`${cls} body.${name}`, pathWith(), baseQuery, { ...baseBody, [name]: value }));
          for (const [cls, value] of pick(
            rand,
            HOSTILE_STRINGS.filter(([c]) => c === 'control' || c === 'unicode'),
            1,
          )) {
            variants.push(req(`${cls} body.${name}[]`, pathWith(), baseQuery, { ...baseBody, [name]: [value] }));
          }
        }
      }
      if (hasBody) {
        for (const [cls, h, body] of bodyVariants(rand, JSON.stringify(baseBody), stack.config.http.bodyLimitBytes)) {
          variants.push({ ...req(cls, pathWith(), baseQuery, body), headers: h });
        }
      }
      // Authenticated with every scope, and without (15% of the variants, chosen by the seed).
      for (const v of variants) out.push({ ...v, headers: { ...v.headers, authorization: `Bearer ${admin}` } });
      for (const v of variants) if (rand() < 0.15) out.push({ ...v, cls: `${v.cls} (no token)` });
      for (const [cls, value] of hostileAuthorizations())
        out.push({ ...variants[0], cls, headers: { ...variants[0].headers, authorization: value } });
    }
    // The queue dashboard: Basic credentials, percent-encoding, paths.
    const dash = `${stack.apiUrl}/admin/queues`;
    const basic = (s: string) => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`;
    for (const [cls, value] of [
      ...hostileAuthorizations(),
      ['dashboard basic bad percent id', basic('%E0%A4%A:x')],
      ['dashboard basic bad percent secret', basic(`${TEST_ADMIN.clientId}:%zz`)],
      ['dashboard basic nul', basic('%00:%00')],
    ] as [string, string][]) {
      out.push({ group: 'api /admin/queues', cls, method: 'GET', url: dash, headers: { authorization: value } });
    }
    const good = basic(`${TEST_ADMIN.clientId}:${TEST_ADMIN.secret}`);
    for (const path of [
      '/%zz',
      '/api/queues/%zz',
      '/api/queues?status=%00',
      '/api/queues/nope/%E0%A4%A',
      '/static/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      out.push({
        group: 'api /admin/queues',
        cls: 'dashboard path',
        method: 'GET',
        url: `${dash}${path}`,
        headers: { authorization: good },
      });
    }
    for (const path of ['/health/live', '/health/ready', '/metrics', '/docs/openapi.json', '/nope/%zz', '/%00', '/v1/%E0%A4%A']) {
      for (const q of ['', '?%zz=1', '?a=%00'])
        out.push({ group: 'api misc', cls: 'misc', method: 'GET', url: `${stack.apiUrl}${path}${q}` });
    }
    return out;
  }

  async function identityRequests(): Promise<FuzzRequest[]> {
    const id = stack.identityUrl;
    const out: FuzzRequest[] = [];
    const rpBasic = `Basic ${Buffer.from(`${enc(rp.client_id)}:${enc(rp.client_secret)}`).toString('base64')}`;
    const identityAdmin = await stack.serverToken('admin');
    out.push(...paramVariants('identity GET /auth', 'GET', `${id}/auth`, authParams(), 'query'));
    out.push(...paramVariants('identity POST /auth', 'POST', `${id}/auth`, authParams(), 'form'));
    out.push(
      ...paramVariants(
        'identity POST /token code',
        'POST',
        `${id}/token`,
        { grant_type: 'authorization_code', code: 'fuzz-code', code_verifier: 'v'.repeat(43), redirect_uri: REDIRECT },
        'form',
        { authorization: rpBasic },
      ),
    );
    out.push(
      ...paramVariants(
        'identity POST /token refresh',
        'POST',
        `${id}/token`,
        { grant_type: 'refresh_token', refresh_token: 'fuzz-refresh' },
        'form',
        { authorization: rpBasic },
      ),
    );
    out.push(
      ...paramVariants(
        'identity POST /token client_secret_post',
        'POST',
        `${id}/token`,
        { grant_type: 'client_credentials', scope: 'admin', client_id: TEST_ADMIN.clientId, client_secret: 'wrong' },
        'form',
      ),
    );
    for (const [cls, value] of hostileAuthorizations()) {
      out.push({
        group: 'identity POST /token basic',
        cls,
        method: 'POST',
        url: `${id}/token`,
        headers: { authorization: value, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=admin',
      });
      out.push({ group: 'identity GET /me', cls, method: 'GET', url: `${id}/me`, headers: { authorization: value } });
      out.push({
        group: 'identity /api/2/logout',
        cls,
        method: 'POST',
        url: `${id}/api/2/logout`,
        headers: { authorization: value },
      });
    }
    out.push(
      ...paramVariants(
        'identity POST /token/revocation',
        'POST',
        `${id}/token/revocation`,
        { token: 'fuzz-token', token_type_hint: 'access_token' },
        'form',
        { authorization: rpBasic },
      ),
    );
    out.push(...paramVariants('identity GET /me', 'GET', `${id}/me`, { access_token: 'fuzz' }, 'query'));
    out.push(...paramVariants('identity POST /me', 'POST', `${id}/me`, { access_token: 'fuzz' }, 'form'));
    const endSession = {
      id_token_hint: signed.idToken,
      post_logout_redirect_uri: POST_LOGOUT,
      state: 'fuzz',
      client_id: rp.client_id,
      logout_hint: 'x',
      ui_locales: 'en',
    };
    out.push(...paramVariants('identity GET /session/end', 'GET', `${id}/session/end`, endSession, 'query'));
    out.push(...paramVariants('identity POST /session/end', 'POST', `${id}/session/end`, endSession, 'form'));
    out.push(
      ...paramVariants(
        'identity POST /session/end/confirm',
        'POST',
        `${id}/session/end/confirm`,
        { xsrf: 'fuzz', logout: 'yes' },
        'form',
      ),
    );
    out.push(
      ...paramVariants(
        'identity GET /session/end/success',
        'GET',
        `${id}/session/end/success`,
        { client_id: rp.client_id },
        'query',
      ),
    );
    out.push(
      ...paramVariants(
        'identity GET /logout',
        'GET',
        `${id}/logout`,
        { client_id: rp.client_id, redirect_uri: POST_LOGOUT, oauth_token: 'fuzz-token' },
        'query',
      ),
    );
    out.push(
      ...paramVariants('identity /api/2/logout', 'POST', `${id}/api/2/logout`, { sub: 'fuzz-sub' }, 'form', {
        authorization: `Bearer ${identityAdmin}`,
      }),
    );
    out.push(
      ...paramVariants('identity /api/2/logout', 'GET', `${id}/api/2/logout`, { sub: 'fuzz-sub' }, 'query', {
        authorization: `Bearer ${identityAdmin}`,
      }),
    );
    for (const [cls, value] of [...HOSTILE_STRINGS, ...WRONG_TYPES]) {
      out.push({
        group: 'identity /api/2/logout',
        cls: `${cls} json.sub`,
        method: 'POST',
        url: `${id}/api/2/logout`,
        headers: { authorization: `Bearer ${identityAdmin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sub: value }),
      });
    }
    out.push({
      group: 'identity /api/2/logout',
      cls: 'user token',
      method: 'POST',
      url: `${id}/api/2/logout`,
      headers: { authorization: `Bearer ${signed.accessToken}x` },
    });
    const sdkHeaders = { origin: ORIGIN, 'x-spid-request': '1' };
    out.push(
      ...paramVariants('identity GET /api/2/session', 'GET', `${id}/api/2/session`, { client_id: rp.client_id }, 'query', {
        origin: ORIGIN,
      }),
    );
    out.push(
      ...paramVariants(
        'identity OPTIONS /api/2/session',
        'OPTIONS',
        `${id}/api/2/session`,
        { client_id: rp.client_id },
        'query',
        { origin: ORIGIN },
      ),
    );
    out.push(
      ...paramVariants(
        'identity POST /api/2/session/logout',
        'POST',
        `${id}/api/2/session/logout`,
        { client_id: rp.client_id },
        'query',
        sdkHeaders,
      ),
    );
    for (const origin of ['null', 'http://evil.example', '\u00e9', `http://${'a'.repeat(3000)}`, ' ']) {
      out.push({
        group: 'identity GET /api/2/session',
        cls: 'header origin',
        method: 'GET',
        url: `${id}/api/2/session?client_id=${rp.client_id}`,
        headers: { origin },
      });
    }
    for (const [cls, value] of HOSTILE_STRINGS)
      if (value)
        out.push({ group: 'identity GET /sdk/:file', cls: `${cls} path.file`, method: 'GET', url: `${id}/sdk/${enc(value)}` });
    for (const bad of BAD_PERCENT)
      out.push({ group: 'identity GET /sdk/:file', cls: 'percent path.file', method: 'GET', url: `${id}/sdk/${bad}` });
    for (const tag of ['\t', '\u00e9', 'W/'.repeat(2000), '*'])
      out.push({
        group: 'identity GET /sdk/:file',
        cls: 'header if-none-match',
        method: 'GET',
        url: `${id}/sdk/spid.js`,
        headers: { 'if-none-match': tag },
      });
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
      for (const q of ['', '?%zz=1', '?a=%00', '?a=%E0%A4%A'])
        out.push({ group: 'identity misc', cls: 'misc', method: 'GET', url: `${id}${path}${q}` });
    }

    // Interactions: hostile uids, and hostile login forms against a live sign-in.
    const live = await openInteraction();
    for (const [cls, value] of HOSTILE_STRINGS) {
      if (!value) continue;
      out.push({
        group: 'identity GET /interaction/:uid',
        cls: `${cls} path.uid`,
        method: 'GET',
        url: `${id}/interaction/${enc(value)}`,
        headers: { cookie: live.cookie },
      });
      out.push({
        group: 'identity POST /interaction/:uid/login',
        cls: `${cls} path.uid`,
        method: 'POST',
        url: `${id}/interaction/${enc(value)}/login`,
        headers: { cookie: live.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: formOf(USER),
      });
    }
    for (const bad of BAD_PERCENT)
      out.push({
        group: 'identity GET /interaction/:uid',
        cls: 'percent path.uid',
        method: 'GET',
        url: `${id}/interaction/${bad}`,
        headers: { cookie: live.cookie },
      });
    for (const cookie of [
      '_interaction=\u00e9',
      '_interaction=%zz; _interaction.sig=%00',
      `_interaction=${'a'.repeat(3000)}`,
      '=; ;;',
      live.cookie.replace(/=/g, '=x'),
    ]) {
      out.push({
        group: 'identity GET /interaction/:uid',
        cls: 'cookie',
        method: 'GET',
        url: `${id}/interaction/${live.uid}`,
        headers: { cookie },
      });
    }
    out.push(
      ...paramVariants(
        'identity POST /interaction/:uid/login',
        'POST',
        `${id}/interaction/${live.uid}/login`,
        { email: 'fuzz-nobody@example.com', password: 'wrong password' },
        'form',
        { cookie: live.cookie },
      ),
    );
    for (const [cls, value] of WRONG_TYPES) {
      out.push({
        group: 'identity POST /interaction/:uid/login',
        cls: `${cls} json.email`,
        method: 'POST',
        url: `${id}/interaction/${live.uid}/login`,
        headers: { cookie: live.cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ email: value, password: value }),
      });
    }
    const aborting = await openInteraction();
    out.push(
      ...paramVariants(
        'identity POST /interaction/:uid/abort',
        'POST',
        `${id}/interaction/${aborting.uid}/abort`,
        { x: '1' },
        'form',
        { cookie: aborting.cookie },
      ),
    );
    return out;
  }

  it('answers every hostile request to the api without a 5xx, naming the problem of each refusal', async () => {
    const docRes = await fetch(`${stack.apiUrl}/docs/openapi.json`);
    expect(docRes.status).toBe(200);
    const doc = (await docRes.json()) as OpenApiDoc;
    expect(operations(doc).length).toBeGreaterThan(15);
    const requests = apiRequests(doc);
    expect(requests.length).toBeGreaterThan(3000);
    const f = report(await runAll(requests));
    expect({ summary: f.summary, serverErrors: f.serverErrors.slice(0, 20) }).toEqual({
      summary: expect.any(String),
      serverErrors: [],
    });
    expect(f.unnamed.slice(0, 20)).toEqual([]);
  }, 240_000);

  it('answers every hostile request to identity without a 5xx, naming the problem of each refusal', async () => {
    const requests = await identityRequests();
    expect(requests.length).toBeGreaterThan(2000);
    const f = report(await runAll(requests));
    expect({ summary: f.summary, serverErrors: f.serverErrors.slice(0, 20) }).toEqual({
      summary: expect.any(String),
      serverErrors: [],
    });
    expect(f.unnamed.slice(0, 20)).toEqual([]);
  }, 240_000);
});
