/**
 * The hostile values of the fuzz suites (test/fuzz-*.e2e-spec.ts): a seeded random source and the
 * classes of hostile strings, JSON values, percent-encodings and Authorization headers.
 */

/** mulberry32: a small deterministic PRNG, so a failing run reproduces with the same FUZZ_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytesFrom(rand: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export interface FuzzRequest {
  /** Route group, e.g. `api GET /v1/clients/{clientId}`. */
  group: string;
  /** Hostile class and target, e.g. `control query.limit`. */
  cls: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * encodeURIComponent that also encodes lone surrogates (as their WTF-8 bytes, which are not
 * valid UTF-8), so broken Unicode reaches the server as it would from a hostile client.
 */
export function enc(s: string): string {
  return s
    .split(/([\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF])/)
    .map((part, i) => {
      if (i % 2 === 0) return encodeURIComponent(part);
      const c = part.charCodeAt(0);
      return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    })
    .join('');
}

const b64u = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Hostile strings, each with its class. */
export const HOSTILE_STRINGS: [cls: string, value: string][] = [
  ['control', '\u0000'],
  ['control', 'a\u0000b'],
  ['control', '\u0001\u0002\u0003'],
  ['control', '\u001b[31mred'],
  ['control', 'del\u007f'],
  ['control', 'line\r\nInjected: yes'],
  ['control', 'tab\there'],
  ['unicode', '\ud800'],
  ['unicode', 'x\udfffy'],
  ['unicode', '\u202egnp.exe'],
  ['unicode', '𝕏'.repeat(300)],
  ['unicode', 'é'],
  ['long', 'x'.repeat(10_000)],
  ['long', 'y'.repeat(256)],
  ['empty', ''],
  ['empty', ' '],
  ['literal', '%00'],
  ['literal', '%zz'],
  ['literal', '../../etc/passwd'],
  ['literal', "' OR 1=1 --"],
  ['literal', '<script>alert(1)</script>'],
  ['literal', '${jndi:ldap://x}'],
  ['uuid', '-'.repeat(36)],
  ['uuid', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz'],
  ['uuid', '00000000-0000-0000-0000-00000000000g'],
  ['uuid', '{00000000-0000-0000-0000-000000000000}'],
  ['uuid', '00000000000000000000000000000000'],
  ['date', '2024-W01'],
  ['date', '2024-W01-1'],
  ['date', '2024-01-01T00:00:00,5Z'],
  ['date', '2024-001'],
  ['date', '2024-13-45'],
  ['date', '2024-02-30T00:00:00Z'],
  ['date', '2024-01-01T25:00:00Z'],
  ['date', '+275760-09-13T00:00:00.001Z'],
  ['date', '99999-01-01'],
  ['date', '0000-00-00'],
  ['date', 'yesterday'],
  ['number', '1'],
  ['number', '-1'],
  ['number', '1e309'],
  ['number', 'NaN'],
  ['number', '0x10'],
  ['number', '99999999999999999999'],
  ['literal', 'true'],
  ['literal', 'null'],
  ['cursor', b64u('["1","x"]')],
  ['cursor', b64u('[1,2]')],
  ['cursor', b64u('{"at":"2024-01-01"}')],
  ['cursor', b64u('["2024-01-01T00:00:00Z","\u0000"]')],
  ['cursor', b64u('["2024-W01","x"]')],
  ['cursor', b64u('-'.repeat(36))],
  ['cursor', b64u('not json')],
  ['cursor', '!!!'],
  ['cursor', b64u('['.repeat(3000))],
];

/**
 * The hostile strings tried on one parameter: NUL (alone and inside text) and a lone surrogate
 * always, every value of the class the parameter's name calls for (dates for since/until/
 * occurred_at, cursors for cursor, UUIDs for ids), plus `others` more drawn by the seeded generator.
 */
export function hostileFor(rand: () => number, others: number, name = ''): [string, string][] {
  const always = new Set(['\u0000', 'a\u0000b', '\ud800']);
  const wanted = new Set<string>();
  if (/since|until|occurred_at/.test(name)) wanted.add('date');
  if (name === 'cursor') wanted.add('cursor');
  if (/(^|_)id$/.test(name)) wanted.add('uuid');
  const chosen = (v: [string, string]) => always.has(v[1]) || wanted.has(v[0]);
  return [
    ...HOSTILE_STRINGS.filter(chosen),
    ...pick(
      rand,
      HOSTILE_STRINGS.filter((v) => !chosen(v)),
      others,
    ),
  ];
}

/** `n` distinct elements of `list`, chosen by `rand`, in list order. */
export function pick<T>(rand: () => number, list: T[], n: number): T[] {
  const idx = list.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => list[i]);
}

/** JSON values of the wrong type, for body fields. */
export const WRONG_TYPES: [cls: string, value: unknown][] = [
  ['type', 0],
  ['type', -1],
  ['type', 1.5],
  ['type', 1e308],
  ['type', Number.MAX_SAFE_INTEGER * 4],
  ['type', true],
  ['type', false],
  ['type', null],
  ['type', []],
  ['type', [null]],
  ['type', ['\u0000']],
  ['type', [1, 'a', {}]],
  ['type', {}],
  ['type', { a: { b: 1 } }],
  ['type', { $gt: '' }],
  ['type', [[[]]]],
  ['type', Array.from({ length: 500 }, (_, i) => `v${i}`)],
];

/** Raw bytes for a path segment or query value that are not valid percent-encoding or UTF-8. */
export const BAD_PERCENT: string[] = ['%zz', '%', '%E0%A4%A', '%C0%AF', '%FF%FE', '%ED%A0%80', 'a%2', '%%30%30'];

/** Hostile Authorization headers (bytes a fetch client can send: no CR, LF or NUL). */
export function hostileAuthorizations(): [string, string][] {
  const basic = (s: string) => `Basic ${Buffer.from(s, 'utf8').toString('base64')}`;
  return [
    ['auth bearer garbage', 'Bearer garbage'],
    ['auth bearer tab', 'Bearer \tx'],
    ['auth bearer latin1', 'Bearer \u00e9\u00ff'],
    ['auth bearer jwt-shaped', `Bearer ${b64u('{"alg":"none"}')}.${b64u('{}')}.`],
    ['auth bearer long', `Bearer ${'a'.repeat(6000)}`],
    ['auth basic garbage', 'Basic !!!'],
    ['auth basic no colon', basic('nocolon')],
    ['auth basic nul', basic('a\u0000b:secret')],
    ['auth basic control secret', basic('test-admin:\u0001')],
    ['auth basic bad percent', basic('%zz:%E0%A4%A')],
    ['auth basic percent nul', basic('%00:%00')],
    ['auth basic long', basic(`${'a'.repeat(3000)}:${'b'.repeat(1000)}`)],
    ['auth scheme', 'Digest x'],
    ['auth empty', ''],
  ];
}
