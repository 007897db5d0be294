import Redis from 'ioredis';
import { Client } from 'pg';

/** One query on a connection of its own, which may fail (the database may be down): never an unhandled error event. */
async function tryQuery<T>(url: string, sql: string): Promise<T[] | null> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000, statement_timeout: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query(sql)).rows as T[];
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Every delivery by status; null if the table cannot be read. */
export async function deliveryStatuses(url: string): Promise<Record<string, number> | null> {
  const rows = await tryQuery<{ status: string; n: string }>(url, 'SELECT status, count(*) AS n FROM deliveries GROUP BY status');
  return rows && Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

const OPEN = ['pending', 'delivering', 'retrying'];
/** Deliveries still open (pending, delivering, retrying) in a count by status. */
export const openCount = (s: Record<string, number>) => OPEN.reduce((n, k) => n + (s[k] ?? 0), 0);

/** Deliveries claimed (`delivering`); null if the table cannot be read. */
export async function claimedCount(url: string): Promise<number | null> {
  const rows = await tryQuery<{ n: string }>(url, `SELECT count(*) AS n FROM deliveries WHERE status = 'delivering'`);
  return rows ? Number(rows[0].n) : null;
}

/** Live per-endpoint send slots under `prefix`: total and the fullest endpoint's; null if none or unreadable. */
export async function liveSlots(url: string, prefix: string): Promise<{ total: number; max: number } | null> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    let cursor = '0';
    let [total, max, keys] = [0, 0, 0];
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:endpoint:*:slots`, 'COUNT', 1000);
      for (const key of found) {
        const n = await redis.zcount(key, Date.now(), '+inf');
        [total, max, keys] = [total + n, Math.max(max, n), keys + 1];
      }
      cursor = next;
    } while (cursor !== '0');
    return keys ? { total, max } : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix:` (SCAN + DEL); returns how many. */
export async function wipeRedisPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
  return deleted;
}
