import { createHash, randomBytes } from 'node:crypto';
import { BAD_PERCENT, enc, FuzzRequest, hostileFor, randomBytesFrom } from './fuzz';
import { bodyVariants } from './fuzz-bodies';
import { REDIRECT } from './fuzz-stack';

/** What the generators share: the seeded random source and the apps' body limit. */
export interface FuzzContext {
  rand: () => number;
  bodyLimit: number;
}

/** One request whose parameters go in the query string or a form body. */
export interface ParamTarget {
  group: string;
  method: string;
  url: string;
  params: Record<string, string>;
  where: 'query' | 'form';
  headers?: Record<string, string>;
}

export const formOf = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The base authorization request of the fuzz client. */
export function authParams(clientId: string): Record<string, string> {
  const verifier = randomBytes(32).toString('base64url');
  return {
    client_id: clientId,
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

/** Variants of one request: each parameter hostile in turn, bad keys, and for a form the whole-body variants. */
export function paramVariants({ rand, bodyLimit }: FuzzContext, target: ParamTarget): FuzzRequest[] {
  const { group, method, url, params, where, headers = {} } = target;
  const out: FuzzRequest[] = [];
  const form = { ...headers, 'content-type': 'application/x-www-form-urlencoded' };
  const build = (raw: string, cls: string): FuzzRequest =>
    where === 'query'
      ? { group, cls, method, url: `${url}?${raw}`, headers }
      : { group, cls, method, url, headers: form, body: raw };
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
    for (const [cls, h, body] of bodyVariants(rand, JSON.stringify(params), bodyLimit)) {
      out.push({ group, cls, method, url, headers: { ...headers, ...h }, body });
    }
    const whole: [string, Record<string, string>, (string | Buffer)?][] = [
      ['huge-body form', form, `${valid}&x=${'a'.repeat(200_000)}`],
      ['gzip garbage form', { ...form, 'content-encoding': 'gzip' }, randomBytesFrom(rand, 80)],
      ['no body', headers],
      ['content-type text/plain form', { ...headers, 'content-type': 'text/plain' }, valid],
      [
        'multipart form',
        { ...headers, 'content-type': 'multipart/form-data; boundary=b' },
        `--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx@y\r\n--b--\r\n`,
      ],
    ];
    for (const [cls, h, body] of whole) out.push({ group, cls, method, url, headers: h, body });
  }
  return out;
}
