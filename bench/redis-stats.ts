import Redis from 'ioredis';

/**
 * The Redis side of a fan-out scenario: the commands each node (one Redis, or every master of a
 * cluster) has processed, which master holds which delivery shard, and the scenario's keys removed.
 */

/** One Redis node the bench reads counters from: a plain Redis, or a cluster master and its slots. */
interface RedisNode {
  host: string;
  port: number;
  /** Slot ranges [from, to] the master serves (empty for a plain Redis). */
  slots: [number, number][];
}

/** Commands processed so far per node (`host:port`), and per command name summed over the nodes. */
export interface CommandCounts {
  byNode: Record<string, number>;
  byCommand: Record<string, number>;
}

const nodeName = (n: { host: string; port: number }) => `${n.host}:${n.port}`;

async function withNode<T>(n: { host: string; port: number }, fn: (r: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: n.host, port: n.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** The masters of a cluster (from CLUSTER SLOTS of a seed node), or the one Redis of `url`. */
export async function redisNodes(target: { url: string; clusterNodes?: string }): Promise<RedisNode[]> {
  if (!target.clusterNodes) {
    const u = new URL(target.url);
    return [{ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379), slots: [] }];
  }
  const [host, port] = target.clusterNodes.split(',')[0].split(':');
  const ranges = await withNode({ host, port: Number(port) }, (r) => r.cluster('SLOTS'));
  const byMaster = new Map<string, RedisNode>();
  for (const [from, to, master] of ranges) {
    const [mHost, mPort] = master;
    const node = byMaster.get(`${mHost}:${mPort}`) ?? { host: mHost, port: Number(mPort), slots: [] };
    node.slots.push([from, to]);
    byMaster.set(nodeName(node), node);
  }
  return [...byMaster.values()].sort((a, b) => a.port - b.port);
}

/** INFO commandstats of every node: `cmdstat_evalsha:calls=12,...` lines. */
export async function commandCounts(nodes: RedisNode[]): Promise<CommandCounts> {
  const counts: CommandCounts = { byNode: {}, byCommand: {} };
  for (const n of nodes) {
    const info = await withNode(n, (r) => r.info('commandstats'));
    let total = 0;
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      total += Number(m[2]);
      counts.byCommand[m[1]] = (counts.byCommand[m[1]] ?? 0) + Number(m[2]);
    }
    counts.byNode[nodeName(n)] = total;
  }
  return counts;
}

/** after − before, per key. */
export function countsBetween(a: CommandCounts, b: CommandCounts): CommandCounts {
  const diff = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(Object.keys(y).map((k) => [k, y[k] - (x[k] ?? 0)]));
  return { byNode: diff(a.byNode, b.byNode), byCommand: diff(a.byCommand, b.byCommand) };
}

/** The node (`host:port`) holding each delivery shard's hash tag (CLUSTER KEYSLOT of `{<prefix>}`); all on the one Redis otherwise. */
export async function shardNodes(nodes: RedisNode[], prefixes: string[]): Promise<string[]> {
  if (nodes.length === 1 || !nodes[0].slots.length) return prefixes.map(() => nodeName(nodes[0]));
  return withNode(nodes[0], async (r) => {
    const owners: string[] = [];
    for (const p of prefixes) {
      const slot = Number(await r.cluster('KEYSLOT', `{${p}}`));
      const owner = nodes.find((n) => n.slots.some(([from, to]) => slot >= from && slot <= to));
      owners.push(owner ? nodeName(owner) : '?');
    }
    return owners;
  });
}

/**
 * Removes a scenario's keys from every node: BullMQ's (`<prefix>:…`, `{<prefix>}:…`, and the
 * shards' `<prefix>-s<i>:…` / `{<prefix>-s<i>}:…`) and the endpoint guard's (`<prefix>:endpoint:…`).
 * One key per DEL: on a cluster master the keys of one node are in many slots.
 */
export async function purgeKeys(nodes: RedisNode[], prefix: string): Promise<void> {
  const patterns = [`${prefix}:*`, `${prefix}-s[0-9]*:*`, `{${prefix}}:*`, `{${prefix}-s[0-9]*}:*`];
  for (const n of nodes) {
    await withNode(n, async (r) => {
      for (const pattern of patterns) {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          if (keys.length) await Promise.all(keys.map((k) => r.del(k)));
          cursor = next;
        } while (cursor !== '0');
      }
    });
  }
}
