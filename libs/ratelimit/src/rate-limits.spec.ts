import { Logger } from '@nestjs/common';
import { parseConfig } from '@slo/config';
import Redis from 'ioredis';
import { createServer } from 'node:net';
import { clientIpKey } from './client-ip';
import { RateLimited, RateLimits } from './rate-limits';

describe('clientIpKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:aa:bb:1:2:3:4', '2001:db8:aa:bb::/64'],
    ['2001:db8:aa:bb::ffff', '2001:db8:aa:bb::/64'],
    ['2001:0db8:00aa:00bb:ffff::1', '2001:db8:aa:bb::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
    ['not an address', 'unknown'],
  ])('keys %s as %s', (ip, key) => {
    expect(clientIpKey(ip)).toBe(key);
  });
});

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('RateLimits while Redis is unreachable', () => {
  let redis: Redis;
  let limits: RateLimits;
  const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);

  beforeAll(async () => {
    // The app's client options: commands fail at once instead of queueing while disconnected.
    redis = new Redis({ port: await closedPort(), host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    const config = parseConfig({
      NODE_ENV: 'test',
      LOGIN_MAX_CONSECUTIVE_FAILURES: '2',
      CLIENT_AUTH_MAX_FAILURES: '2',
      INGEST_MAX_EVENTS_PER_MINUTE: '2',
    });
    limits = new RateLimits(redis, config);
  });

  afterAll(() => {
    redis.disconnect();
    debug.mockRestore();
  });

  it('keeps limiting in process memory, answers instead of throwing, and notes the fallback once', async () => {
    expect(redis.status).not.toBe('ready');
    expect(await limits.clientAuth.check('rp')).toBeNull();
    expect(await limits.clientAuth.fail('rp')).toBeNull();
    expect(await limits.clientAuth.fail('rp')).toBeInstanceOf(RateLimited);
    expect(await limits.clientAuth.check('rp')).toBeInstanceOf(RateLimited);
    expect(await limits.clientAuth.check('other-rp')).toBeNull();

    const first = await limits.login.begin('ada@example.com', '203.0.113.1');
    expect(first).not.toBeInstanceOf(RateLimited);
    expect(await (first as Exclude<typeof first, RateLimited>).failed()).toBeNull();
    const second = await limits.login.begin('ada@example.com', '203.0.113.1');
    const locked = await (second as Exclude<typeof second, RateLimited>).failed();
    expect(locked).toBeInstanceOf(RateLimited);
    expect(locked!.retryAfterSeconds).toBe(60);
    expect(await limits.login.begin('ada@example.com', '203.0.113.1')).toBeInstanceOf(RateLimited);
    expect(await limits.login.begin('ada@example.com', '198.51.100.1')).not.toBeInstanceOf(RateLimited);

    expect(await limits.ingest.consume('emitter')).toBeNull();
    expect(await limits.ingest.consume('emitter')).toBeNull();
    expect(await limits.ingest.consume('emitter')).toBeInstanceOf(RateLimited);

    const fallbacks = debug.mock.calls.filter(([message]) => String(message).includes('Redis is unreachable'));
    expect(fallbacks).toHaveLength(1);
  });
});
