import { generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';

export interface SigningRate {
  alg: 'ES256' | 'RS256';
  /** One signature at a time, per second of wall time. */
  sequential: number;
  /** `inFlight` signatures at once, per second of wall time (Node's WebCrypto signs RSA on libuv's thread pool, ECDSA on the calling thread). */
  parallel: number;
  inFlight: number;
  /** Signatures per CPU-second of this process during the parallel run: what one core makes. */
  perCore: number;
}

/**
 * Logout tokens per second with jose's SignJWT, claims shaped like the worker's (iss, aud, iat,
 * exp, jti, events, sub, sid), for `seconds` each: one at a time, then `inFlight` at once; the
 * process's CPU time during the latter gives signatures per core-second.
 */
export async function measureSigning(alg: 'ES256' | 'RS256', seconds: number, inFlight = 8): Promise<SigningRate> {
  const { privateKey } = await generateKeyPair(alg);
  const sign = () =>
    new SignJWT({
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      sub: 'bench-sub-000001',
      sid: 'bench-sid-000001',
    })
      .setProtectedHeader({ alg, kid: randomUUID(), typ: 'logout+jwt' })
      .setIssuer('http://localhost:4000')
      .setAudience('bench-client-0001')
      .setIssuedAt()
      .setExpirationTime('2m')
      .setJti(randomUUID())
      .sign(privateKey);
  for (let i = 0; i < 20; i++) await sign(); // warm-up
  const rate = async (lanes: number) => {
    let count = 0;
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (performance.now() < end) {
          await sign();
          count++;
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    return { wall: count / ((performance.now() - started) / 1000), perCpuSecond: count / ((used.user + used.system) / 1e6) };
  };
  const sequential = await rate(1);
  const parallel = await rate(inFlight);
  return { alg, sequential: sequential.wall, parallel: parallel.wall, inFlight, perCore: parallel.perCpuSecond };
}
