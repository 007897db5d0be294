/**
 * jose SignJWT against node:crypto `sign()` with cached KeyObjects, for ES256 and RS256 logout
 * tokens with the same header and claims:
 *
 *   flock /tmp/slo-bench.lock node -r ts-node/register/transpile-only -r tsconfig-paths/register \
 *     bench/signing-compare.ts [--seconds=2] [--in-flight=8] [--impl=jose,node,node-async,minter]
 *
 * First checks that every signer's tokens verify with jose against the public JWK and that
 * node:crypto's header and payload bytes equal jose's; then, per algorithm and signer, signatures
 * per CPU-second of this process (process.cpuUsage) one at a time and `in-flight` at once, each for
 * `seconds`, and each signer's ratio to jose.
 */
import { compactVerify, decodeProtectedHeader, exportJWK, importJWK, jwtVerify } from 'jose';
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import {
  benchKey,
  BENCH_CLIENT,
  BENCH_ISSUER,
  measureSigning,
  signerFor,
  type SigningImpl,
  type SigningRate,
  type TokenFields,
} from './signing';
import { fmt, table } from './stats';

const ALGS = ['ES256', 'RS256'] as const;
const IMPLS: SigningImpl[] = ['jose', 'node', 'node-async', 'minter'];

function option(argv: string[], name: string): string | undefined {
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** Every signer's tokens verify against the public key; node:crypto's signing input is jose's, byte for byte. */
async function check(alg: 'ES256' | 'RS256', impls: SigningImpl[]): Promise<string> {
  const jwk = await benchKey(alg);
  const publicKey = await importJWK(
    await exportJWK(createPublicKey(createPrivateKey({ key: jwk as never, format: 'jwk' }))),
    alg,
  );
  const fields: TokenFields = {
    kid: jwk.kid,
    typ: 'logout+jwt',
    iat: Math.floor(Date.now() / 1000),
    jti: randomUUID(),
    sub: 'bench-sub-000001',
    sid: 'bench-sid-000001',
  };
  const tokens = new Map<SigningImpl, string>();
  for (const impl of impls) {
    const token = await (await signerFor(impl, jwk))(fields);
    await jwtVerify(token, publicKey, { issuer: BENCH_ISSUER, audience: BENCH_CLIENT, typ: 'logout+jwt' });
    const header = decodeProtectedHeader(token);
    if (header.alg !== alg || header.kid !== jwk.kid) throw new Error(`${impl} ${alg}: header ${JSON.stringify(header)}`);
    await compactVerify(token, publicKey);
    const signature = Buffer.from(token.split('.')[2], 'base64url');
    if (alg === 'ES256' && signature.length !== 64) throw new Error(`${impl} ES256: ${signature.length}-byte signature`);
    tokens.set(impl, token);
  }
  const input = (t: string) => t.split('.').slice(0, 2).join('.');
  const jose = tokens.get('jose');
  for (const impl of ['node', 'node-async'] as const) {
    const t = tokens.get(impl);
    if (jose && t && input(t) !== input(jose)) throw new Error(`${impl} ${alg}: header or payload differs from jose's`);
  }
  const sigBytes = Buffer.from(tokens.get(impls[0])!.split('.')[2], 'base64url').length;
  return (
    `${alg}: ${impls.join(', ')} verified by jose; ${sigBytes}-byte signatures` +
    (jose ? '; node:crypto signing input = jose’s' : '')
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const seconds = Number(option(argv, 'seconds') ?? 2);
  const inFlight = Number(option(argv, 'in-flight') ?? 8);
  const impls = (option(argv, 'impl')?.split(',') as SigningImpl[] | undefined) ?? IMPLS;
  if (!(seconds > 0) || !(inFlight >= 1) || impls.some((i) => !IMPLS.includes(i))) {
    throw new Error(`usage: signing-compare.ts [--seconds=2] [--in-flight=8] [--impl=${IMPLS.join(',')}]`);
  }
  const out = [`node ${process.version}, ${seconds} s one at a time + ${seconds} s with ${inFlight} in flight per signer`, ''];
  for (const alg of ALGS) out.push(await check(alg, impls));
  for (const alg of ALGS) {
    const rates: SigningRate[] = [];
    for (const impl of impls) {
      process.stderr.write(`measuring ${alg} ${impl}\n`);
      rates.push(await measureSigning(alg, seconds, inFlight, impl));
    }
    const base = rates.find((r) => r.impl === 'jose');
    out.push(
      '',
      table(
        [alg, 'per CPU-s (1 at a time)', 'ratio', `per CPU-s (${inFlight} in flight)`, 'ratio', 'wall/s 1', `wall/s ${inFlight}`],
        rates.map((r) => [
          r.impl,
          fmt.int(r.sequentialPerCore!),
          base ? fmt.ratio(r.sequentialPerCore! / base.sequentialPerCore!) : '–',
          fmt.int(r.perCore),
          base ? fmt.ratio(r.perCore / base.perCore) : '–',
          fmt.int(r.sequential),
          fmt.int(r.parallel),
        ]),
      ),
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
