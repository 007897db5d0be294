import Redis, { Cluster } from 'ioredis';
import { once } from 'node:events';

/**
 * The key patterns of a deployment's prefix: its own keys (`prefix:`), its delivery shards'
 * (`prefix-s<i>:`), and both again hash-tagged as BullMQ's keys are on a Redis Cluster
 * (`{prefix}:`, `{prefix-s<i>}:`).
 */
const patternsOf = (prefix: string) => [`${prefix}:*`, `${prefix}-s[0-9]*:*`, `{${prefix}}:*`, `{${prefix}-s[0-9]*}:*`];

/** Every key under `prefix` (see {@link patternsOf}), on one Redis or on every master of a cluster. */
export async function redisKeysUnder(redis: Redis | Cluster, prefix: string): Promise<string[]> {
  // A cluster client knows the masters once it is ready (a new one is still connecting).
  if (redis instanceof Cluster && redis.status !== 'ready') await once(redis, 'ready');
  const keys: string[] = [];
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    for (const pattern of patternsOf(prefix)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        keys.push(...found);
        cursor = next;
      } while (cursor !== '0');
    }
  }
  return keys;
}

/**
 * Deletes every Redis key under `prefix:` and under the shard prefixes `prefix-s<i>:`, plain or
 * hash-tagged (a test file's or a benchmark scenario's queues and guards). `redis` is a URL (a
 * connection of its own, closed after) or a client (one Redis or a cluster) the caller owns. On a
 * cluster keys are deleted one by one: one DEL of keys in different hash slots is refused.
 */
export async function deleteRedisKeys(redis: string | Redis | Cluster, prefix: string): Promise<void> {
  const client = typeof redis === 'string' ? new Redis(redis) : redis;
  try {
    const keys = await redisKeysUnder(client, prefix);
    if (client instanceof Cluster) await Promise.all(keys.map((key) => client.del(key)));
    else for (let i = 0; i < keys.length; i += 1000) await client.del(...keys.slice(i, i + 1000));
  } finally {
    if (typeof redis === 'string') await client.quit();
  }
}
