import { gzipSync } from 'node:zlib';
import { randomBytesFrom } from './fuzz';

/** A JSON document `depth` arrays deep. */
const deepJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/**
 * Whole-request variants for a request with a body: deep JSON, huge bodies, garbage and valid
 * compressed bodies, wrong content types, malformed JSON, charset tricks.
 */
export function bodyVariants(
  rand: () => number,
  validJson: string,
  bodyLimit: number,
): [string, Record<string, string>, string | Buffer][] {
  const json = { 'content-type': 'application/json' };
  const out: [string, Record<string, string>, string | Buffer][] = [
    ['deep-json arrays 3000', json, deepJson(3000)],
    ['deep-json objects 3000', json, deepObject(3000)],
    ['deep-json arrays 100000', json, deepJson(100_000)],
    ['deep-json field', json, `{"x":${deepJson(5000)}}`],
    ['huge-body', json, `{"x":"${'a'.repeat(bodyLimit + 1024)}"}`],
    ['huge-body many keys', json, `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":1`).join(',')}}`],
    ['malformed-json', json, '{"a":'],
    ['malformed-json', json, '{a:1}'],
    ['malformed-json', json, 'null'],
    ['malformed-json', json, '"str"'],
    ['malformed-json', json, '1'],
    ['malformed-json', json, '[]'],
    ['malformed-json', json, '\u0000'],
    ['malformed-json', json, '{"__proto__":{"admin":true}}'],
    ['malformed-json', json, '{"constructor":{"prototype":{"x":1}}}'],
    ['control key', json, '{"a\\u0000b":1}'],
    ['control key', json, '{"\\u0001":1}'],
    ['gzip garbage', { ...json, 'content-encoding': 'gzip' }, randomBytesFrom(rand, 64)],
    [
      'gzip garbage',
      { ...json, 'content-encoding': 'gzip' },
      Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), randomBytesFrom(rand, 40)]),
    ],
    ['gzip truncated', { ...json, 'content-encoding': 'gzip' }, gzipSync(validJson).subarray(0, 12)],
    ['gzip bomb', { ...json, 'content-encoding': 'gzip' }, gzipSync(`{"x":"${'a'.repeat(4 * bodyLimit)}"}`)],
    ['deflate garbage', { ...json, 'content-encoding': 'deflate' }, randomBytesFrom(rand, 64)],
    ['br garbage', { ...json, 'content-encoding': 'br' }, randomBytesFrom(rand, 64)],
    ['unknown encoding', { ...json, 'content-encoding': 'zstd-nope' }, validJson],
    ['charset', { 'content-type': 'application/json; charset=utf-7' }, validJson],
    ['charset', { 'content-type': 'application/json; charset=nonsense' }, validJson],
    ['content-type text/plain', { 'content-type': 'text/plain' }, validJson],
    ['content-type none', {}, validJson],
    ['content-type xml', { 'content-type': 'application/xml' }, '<a>1</a>'],
    ['content-type form', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=%00&b=%zz'],
    ['content-type form', { 'content-type': 'application/x-www-form-urlencoded' }, 'client_name=x&client_name=y'],
    [
      'content-type multipart',
      { 'content-type': 'multipart/form-data; boundary=xyz' },
      '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n',
    ],
    ['content-type multipart', { 'content-type': 'multipart/form-data' }, 'garbage'],
    ['content-type garbage', { 'content-type': ';;;=' }, validJson],
    ['invalid utf-8', json, Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from('"}')])],
    ['bom', json, `\ufeff${validJson}`],
  ];
  // Random byte-level mutations of the valid body.
  for (let i = 0; i < 6; i++) {
    const buf = Buffer.from(validJson, 'utf8');
    const flips = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < flips && buf.length; j++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
    out.push(['mutated-json', json, buf]);
  }
  return out;
}
