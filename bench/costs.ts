import { shardPrefix } from '@slo/queue';
import { commandCounts, countsBetween, redisNodes, shardNodes, type CommandCounts } from './redis-stats';
import type { ScenarioEnv } from './stack';
import { withPg } from './stack';

/**
 * What a scenario's deliveries cost Redis and PostgreSQL, from counters read before and after:
 * commands per Redis node (every master of a cluster, INFO commandstats), and in the scenario's
 * own database committed transactions, rows written (inserted, updated, deleted: pg_stat_user_tables)
 * and bytes of its tables and indexes (pg_total_relation_size).
 */
export interface CostSample {
  redis: CommandCounts;
  pgCommits: number;
  pgRows: number;
  pgBytes: number;
}

/** Per delivery: commands on each node and in all, by command name, and PostgreSQL's figures. */
export interface Costs {
  redisTotal: number;
  /** Node `host:port` → commands per delivery, and the delivery shards whose hash tag it holds. */
  redisByNode: { node: string; perDelivery: number; shards: number[] }[];
  /** The busiest node's commands per delivery. */
  redisMaxNode: number;
  /** The five commands called most, per delivery. */
  redisTopCommands: [string, number][];
  pgRows: number;
  pgBytes: number;
}

export async function sampleCosts(s: ScenarioEnv): Promise<CostSample> {
  const nodes = await redisNodes({ url: s.config.redis.url, clusterNodes: s.env.REDIS_CLUSTER_NODES });
  const redis = await commandCounts(nodes);
  const pgCommits = await withPg(s.adminUrl, async (c) => {
    const { rows } = await c.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [s.dbName]);
    return Number(rows[0]?.n ?? NaN);
  });
  const pg = await withPg(s.config.database.url, async (c) => {
    const { rows } = await c.query<{ rows: string; bytes: string }>(
      `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS rows,
              coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes FROM pg_stat_user_tables`,
    );
    return { rows: Number(rows[0].rows), bytes: Number(rows[0].bytes) };
  });
  return { redis, pgCommits, pgRows: pg.rows, pgBytes: pg.bytes };
}

/** The costs between two samples, per delivery; `shards` names the scenario's DELIVERY_SHARDS. */
export async function costsBetween(
  s: ScenarioEnv,
  a: CostSample,
  b: CostSample,
  deliveries: number,
  shards: number,
): Promise<Costs> {
  const nodes = await redisNodes({ url: s.config.redis.url, clusterNodes: s.env.REDIS_CLUSTER_NODES });
  const owners = await shardNodes(
    nodes,
    Array.from({ length: shards }, (_, i) => shardPrefix(s.prefix, i, shards)),
  );
  const d = countsBetween(a.redis, b.redis);
  const byNode = Object.entries(d.byNode).map(([node, n]) => ({
    node,
    perDelivery: n / deliveries,
    shards: owners.flatMap((o, i) => (o === node ? [i] : [])),
  }));
  return {
    redisTotal: byNode.reduce((t, x) => t + x.perDelivery, 0),
    redisByNode: byNode,
    redisMaxNode: Math.max(...byNode.map((x) => x.perDelivery)),
    redisTopCommands: Object.entries(d.byCommand)
      .sort((x, y) => y[1] - x[1])
      .slice(0, 5)
      .map(([name, n]) => [name, n / deliveries]),
    pgRows: (b.pgRows - a.pgRows) / deliveries,
    pgBytes: (b.pgBytes - a.pgBytes) / deliveries,
  };
}
