import type { AppConfig } from '@slo/config';
import { Cluster, type ClusterOptions, type RedisOptions } from 'ioredis';
import Redis from 'ioredis';

/** Longest pause between two reconnect attempts: a Redis that is back is used again within about a second. */
const REDIS_RECONNECT_MAX_MS = 1000;

const reconnect = (times: number) => Math.min(times * 100, REDIS_RECONNECT_MAX_MS);

/** A connection to the coordinator's Redis: one server, or a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisClient = Redis | Cluster;

/** ioredis options from a redis:// or rediss:// URL (BullMQ needs options, not a URL). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    // Reconnect forever, quickly (BullMQ's own default backs off to 20 s between attempts).
    retryStrategy: reconnect,
    connectTimeout: 5000,
  };
}

/** True when the coordinator runs on a Redis Cluster (REDIS_CLUSTER_NODES is set). */
export function onCluster(config: AppConfig): boolean {
  return !!config.redis.clusterNodes?.length;
}

/**
 * BullMQ's key prefix. On a cluster every key of a queue must share one hash slot, so the prefix
 * is a hash tag there (`{slo}`: BullMQ's "Redis cluster" guide); on one Redis it is QUEUE_PREFIX
 * as it always was, so the keys of jobs already queued keep their names.
 */
export function bullPrefix(config: AppConfig): string {
  return onCluster(config) ? `{${config.redis.prefix}}` : config.redis.prefix;
}

/**
 * A new cluster connection to REDIS_CLUSTER_NODES: REDIS_URL gives each node's user name,
 * password and TLS, nothing else (a cluster has database 0 only). Reconnects forever, quickly.
 */
export function clusterClient(config: AppConfig, opts: Pick<ClusterOptions, 'enableOfflineQueue'> = {}): Cluster {
  const { username, password, tls, connectTimeout } = redisOptionsFromUrl(config.redis.url);
  return new Cluster(config.redis.clusterNodes ?? [], {
    ...opts,
    redisOptions: { username, password, tls, connectTimeout, maxRetriesPerRequest: null },
    clusterRetryStrategy: reconnect,
    slotsRefreshTimeout: 2000,
  });
}

/** The app's shared Redis client (one server or the cluster); it fails commands at once while Redis is down. */
export function sharedRedisClient(config: AppConfig): RedisClient {
  if (onCluster(config)) return clusterClient(config, { enableOfflineQueue: false });
  return new Redis({ ...redisOptionsFromUrl(config.redis.url), lazyConnect: false, enableOfflineQueue: false });
}

/** The ports of the Redis servers the app was told about (REDIS_URL's, or the cluster's seed nodes). */
export function redisPorts(config: AppConfig): number[] {
  if (onCluster(config)) return (config.redis.clusterNodes ?? []).map((n) => n.port);
  return [Number(new URL(config.redis.url).port || 6379)];
}

/** Every node that holds keys: the server itself, or each master of the cluster (for SCAN). */
export function keyNodes(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}
