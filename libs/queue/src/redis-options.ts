import type { RedisOptions } from 'ioredis';

/** Longest pause between two reconnect attempts: a Redis that is back is used again within about a second. */
const REDIS_RECONNECT_MAX_MS = 1000;

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
    retryStrategy: (times: number) => Math.min(times * 100, REDIS_RECONNECT_MAX_MS),
    connectTimeout: 5000,
  };
}
