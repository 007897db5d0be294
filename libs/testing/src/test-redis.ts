import Redis, { Cluster } from 'ioredis';
import { TEST_REDIS_CLUSTER_NODES, TEST_REDIS_URL } from './test-env';

/** A client of the tests' Redis: one server, or a Redis Cluster (SLO_TEST_REDIS_CLUSTER_NODES). */
export type TestRedisClient = Redis | Cluster;

/**
 * A new client of the Redis the test stacks use, for inspecting or wiping keys: a `Cluster` when
 * the tests run on a Redis Cluster, a `Redis` on 127.0.0.1:6379 otherwise. The caller quits it.
 */
export function testRedis(): TestRedisClient {
  if (!TEST_REDIS_CLUSTER_NODES) return new Redis(TEST_REDIS_URL);
  const nodes = TEST_REDIS_CLUSTER_NODES.split(',').map((n) => {
    const [host, port] = n.trim().split(':');
    return { host, port: Number(port) };
  });
  return new Cluster(nodes);
}
