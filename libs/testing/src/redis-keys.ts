import Redis from 'ioredis';

/**
 * Deletes every Redis key under `prefix:` and under the shard prefixes `prefix-s<i>:` (a test
 * file's or a benchmark scenario's queues and guards).
 */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const pattern of [`${prefix}:*`, `${prefix}-s[0-9]*:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    await redis.quit();
  }
}
