import { TEST_ADMIN } from '@slo/testing';
import { BAD_PERCENT, enc, FuzzRequest, HOSTILE_STRINGS, hostileAuthorizations, hostileFor, pick, WRONG_TYPES } from './fuzz';
import { bodyVariants } from './fuzz-bodies';
import { OpenApiDoc, operations, sampleValue } from './fuzz-openapi';
import { FuzzContext } from './fuzz-params';

/**
 * The hostile requests to the api: every operation of its OpenAPI document, each path, query,
 * header and body field hostile in turn and the whole-body variants, with the admin token (and
 * 15% of them, chosen by the seed, without); then the queue dashboard and the routes outside /v1.
 */
export function apiRequests({ rand, bodyLimit }: FuzzContext, doc: OpenApiDoc, apiUrl: string, admin: string): FuzzRequest[] {
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
      url: `${apiUrl}${path}${query.length ? `?${query.join('&')}` : ''}`,
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
      for (const [cls, h, body] of bodyVariants(rand, JSON.stringify(baseBody), bodyLimit)) {
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
  const dash = `${apiUrl}/admin/queues`;
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
      out.push({ group: 'api misc', cls: 'misc', method: 'GET', url: `${apiUrl}${path}${q}` });
  }
  return out;
}
