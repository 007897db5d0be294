import { SETTINGS, type AppConfig } from '@slo/config';
import Redis from 'ioredis';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { pad } from '../drive';
import { ReceiverPool } from '../receivers';
import { createDatabase, dropDatabase, purgeRedis, scenarioEnv, startEmitter, type Emitter } from '../stack';
import { cleanupMark, onCleanup, unwind } from './cleanup';
import { EventLog, type EventRecord } from './emit';
import type { DrillName, DrillOptions } from './options';
import { PrivatePostgres, PrivateRedis } from './servers';
import { WorkerLog, WorkerSupervisor } from './worker';

/** What a drill's fault did: when it began and ended (epoch ms), and what happened, for the report. */
export interface Fault {
  start: number;
  end: number;
  notes: string[];
}

/** Everything a drill acts on while its events flow. */
export interface Harness {
  opts: DrillOptions;
  log: (m: string) => void;
  events: EventLog;
  receivers: ReceiverPool;
  workers: WorkerSupervisor;
  clients: string[];
  /** Start of emission (epoch ms) and the drill's time limit. */
  t0: number;
  deadline: number;
  redisUrl: string;
  prefix: string;
  pg?: PrivatePostgres;
  redis?: PrivateRedis;
  /** Distinct (client, sub) pairs received so far. */
  received(): number;
  /** Seconds since the start of emission, for the report. */
  rel(at: number): string;
  /** Deliveries PostgreSQL holds as claimed (`delivering`); null if it cannot be read. */
  claimed(): Promise<number | null>;
  /** Live per-endpoint send slots in Redis (`<prefix>:endpoint:*:slots`): total and the fullest endpoint's; null if none. */
  slots(): Promise<{ total: number; max: number } | null>;
}

export interface DrillSpec {
  name: DrillName;
  /** A private server the drill needs, because it stops it. */
  server?: 'postgres' | 'redis';
  /** Largest share of duplicate receipts that passes (fraction of expected deliveries); none = not checked. */
  maxDuplicateShare?: number;
  /** Emits the drill's events and injects its fault; resolves when emission and fault are over. */
  run(h: Harness): Promise<Fault>;
}

export interface DrillResult {
  name: DrillName;
  accepted: number;
  refused: number;
  /** record() calls that had not returned when the drill ended. */
  unresolved: number;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  /** End of the fault → last first receipt of an event submitted before the fault ended (s); null if not all arrived. */
  recoverSeconds: number | null;
  /** End of the fault → the last first receipt of any event (s). */
  lastReceiptSeconds: number | null;
  /** End of the fault → the first receipt after it, of any event (s): when deliveries flowed again. */
  firstAfterSeconds: number | null;
  /** Receipts for events whose record() threw (committed after all). */
  refusedDelivered: number;
  /** record() duration, longest (ms). */
  recordMaxMs: number;
  /** Events submitted after the fault ended: accepted → receipt, p99 and max (ms). */
  afterFault: { events: number; p99: number; max: number };
  /** Every delivery of the drill's database by status at the end (null if it could not be read). */
  statuses: Record<string, number> | null;
  /** All expected deliveries arrived and PostgreSQL had nothing open any more. */
  settled: boolean;
  /** End of the fault → the poll that saw it settled (s). */
  settledSeconds: number | null;
  fault: Fault | null;
  notes: string[];
  workerLog: string[];
  relayRequeued: number;
  workerSelfExits: number;
  /** Why the drill could not run or finish, if it could not. */
  error?: string;
  pass: boolean;
}

/** Worker settings common to every drill; the lease only where the code has that setting. */
export function drillSettings(opts: DrillOptions): { settings: Record<string, string>; leaseSupported: boolean } {
  const leaseSupported = SETTINGS.some((s) => s.env === 'DELIVERY_LEASE_SECONDS');
  return {
    settings: {
      DELIVERY_SWEEP_INTERVAL_SECONDS: String(opts.relayIntervalSeconds),
      ...(leaseSupported ? { DELIVERY_LEASE_SECONDS: String(opts.leaseSeconds) } : {}),
      ...opts.env,
    },
    leaseSupported,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Polls `cond` every 50 ms until it holds (true) or `until` passes (false). */
export async function waitUntil(cond: () => boolean, until: number): Promise<boolean> {
  while (!cond()) {
    if (Date.now() >= until) return false;
    await sleep(50);
  }
  return true;
}

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

async function deliveryStatuses(url: string): Promise<Record<string, number> | null> {
  const rows = await tryQuery<{ status: string; n: string }>(url, 'SELECT status, count(*) AS n FROM deliveries GROUP BY status');
  return rows && Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

const OPEN = ['pending', 'delivering', 'retrying'];
const openCount = (s: Record<string, number>) => OPEN.reduce((n, k) => n + (s[k] ?? 0), 0);

async function liveSlots(url: string, prefix: string): Promise<{ total: number; max: number } | null> {
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

function quantile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * One drill from scratch: its own database (on a private cluster for pg-restart) and queue prefix
 * (on a private redis-server for redis-outage), K clients on loopback receivers, one real worker
 * process, a warm-up, then the drill's events and fault; then a wait until every accepted event
 * reached every client and PostgreSQL holds no open delivery, or the time limit. Everything it
 * started is stopped and removed before it returns, whatever happened.
 */
export async function runDrill(spec: DrillSpec, base: AppConfig, opts: DrillOptions): Promise<DrillResult> {
  const log = (msg: string) => process.stderr.write(`[${spec.name}] ${msg}\n`);
  const mark = cleanupMark();
  const notes: string[] = [];
  const result: DrillResult = {
    name: spec.name,
    accepted: 0,
    refused: 0,
    unresolved: 0,
    expected: 0,
    received: 0,
    lost: 0,
    duplicates: 0,
    recoverSeconds: null,
    lastReceiptSeconds: null,
    firstAfterSeconds: null,
    refusedDelivered: 0,
    recordMaxMs: NaN,
    afterFault: { events: 0, p99: NaN, max: NaN },
    statuses: null,
    settled: false,
    settledSeconds: null,
    fault: null,
    notes,
    workerLog: [],
    relayRequeued: 0,
    workerSelfExits: 0,
    pass: false,
  };
  let events: EventLog | null = null;
  let receivers: ReceiverPool | null = null;
  let workers: WorkerSupervisor | null = null;
  let dbUrl = '';
  try {
    const logsDir = opts.logs ? resolve(opts.logs) : await mkdtemp(join(tmpdir(), 'slo-drill-logs-'));
    if (opts.logs) mkdirSync(logsDir, { recursive: true });
    else onCleanup('log directory', () => rm(logsDir, { recursive: true, force: true }));

    let cfg: AppConfig = base;
    let pg: PrivatePostgres | undefined;
    let redis: PrivateRedis | undefined;
    if (spec.server === 'postgres') {
      pg = await PrivatePostgres.create(log);
      cfg = { ...cfg, database: { url: pg.adminUrl } };
    }
    if (spec.server === 'redis') {
      redis = await PrivateRedis.create(log);
      cfg = { ...cfg, redis: { ...cfg.redis, url: redis.url } };
    }
    const s = scenarioEnv(cfg, `drill-${spec.name}`, drillSettings(opts).settings);
    dbUrl = s.config.database.url;
    // The private servers go as a whole; on the shared ones only the drill's database and keys.
    if (!pg) onCleanup('database', () => dropDatabase(s));
    if (!redis) onCleanup('Redis keys', () => purgeRedis(s.config.redis.url, s.prefix));
    await createDatabase(s);

    const pool = new ReceiverPool();
    receivers = pool;
    onCleanup('receivers', () => pool.close());
    await pool.listen(opts.receivers);
    const emitter: Emitter = await startEmitter(s.config);
    onCleanup('emitter', () => emitter.close());
    await emitter.keys.ensureActiveKeys();
    const clients = Array.from({ length: opts.clients }, (_, i) => `drill-client-${pad(i, 4)}`);
    for (const [i, clientId] of clients.entries()) {
      await emitter.clients.create({
        client_id: clientId,
        client_name: clientId,
        grant_types: ['client_credentials'],
        backchannel_logout_uri: receivers.uriFor(i, clientId),
      });
    }

    const workerLog = new WorkerLog(join(logsDir, `${spec.name}-worker.log`));
    log('starting the worker');
    workers = await WorkerSupervisor.start(s.env, workerLog, log);

    // Warm-up: the whole path works before any fault (and JIT, pools, key cache are warm).
    const warm = new EventLog(emitter.logout, `${spec.name}-warmup`, clients);
    await warm.burst(2, 1);
    const warmKeys = warm.accepted.flatMap((e) => clients.map((c) => ReceiverPool.key(c, e.sub)));
    const r = receivers;
    if (warm.refused.length || !(await waitUntil(() => warmKeys.every((k) => r.receipts.has(k)), Date.now() + 60_000))) {
      throw new Error(`the warm-up did not get through (${warm.refused[0]?.error ?? 'deliveries missing after 60 s'})`);
    }
    receivers.reset();

    events = new EventLog(emitter.logout, spec.name, clients);
    const t0 = Date.now();
    const deadline = t0 + opts.maxDrillSeconds * 1000;
    const h: Harness = {
      opts,
      log,
      events,
      receivers,
      workers,
      clients,
      t0,
      deadline,
      redisUrl: s.config.redis.url,
      prefix: s.prefix,
      pg,
      redis,
      received: () => r.receipts.size,
      rel: (at) => `t=${((at - t0) / 1000).toFixed(1)} s`,
      claimed: async () => {
        const rows = await tryQuery<{ n: string }>(dbUrl, `SELECT count(*) AS n FROM deliveries WHERE status = 'delivering'`);
        return rows ? Number(rows[0].n) : null;
      },
      slots: () => liveSlots(s.config.redis.url, s.prefix),
    };
    log('drill starts');
    result.fault = await spec.run(h);
    await events.settled(deadline);

    // Done when every accepted event reached every client and PostgreSQL has nothing open (late duplicates counted).
    const ev = events;
    const missing = () =>
      ev.accepted.reduce((n, e) => n + clients.filter((c) => !r.receipts.has(ReceiverPool.key(c, e.sub))).length, 0);
    let lastReport = 0;
    let statusFailures = 0;
    for (;;) {
      const left = missing();
      let statuses: Record<string, number> | null = null;
      if (left === 0 && !ev.unresolved) {
        statuses = await deliveryStatuses(dbUrl);
        if (statuses && openCount(statuses) === 0) {
          result.settled = true;
          result.settledSeconds = Math.max(0, Date.now() - result.fault.end) / 1000;
          break;
        }
        if (!statuses && ++statusFailures >= 10) {
          notes.push('the deliveries table could not be read; finished on receipts alone');
          result.settled = true;
          break;
        }
      }
      if (Date.now() >= deadline) {
        notes.push(`time limit (${opts.maxDrillSeconds} s) reached with ${left} deliveries missing`);
        break;
      }
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        statuses ??= await deliveryStatuses(dbUrl);
        log(
          `${h.rel(Date.now())}: ${r.receipts.size} received, ${left} of accepted events missing` +
            (statuses ? `, ${openCount(statuses)} open in PostgreSQL` : ''),
        );
      }
      await sleep(250);
    }
    if (result.settled) await sleep(1000); // a send already under way when PostgreSQL said "nothing open"
    result.pass = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    if (events && receivers) summarise(result, events, receivers, spec);
    if (dbUrl) result.statuses = await deliveryStatuses(dbUrl);
    if (workers) {
      result.relayRequeued = workers.log.relayRequeued;
      result.workerSelfExits = workers.selfExits;
    }
    await unwind(mark, log);
    if (workers) result.workerLog = workers.log.top(6);
  }
  result.pass = result.pass && !result.error && result.lost === 0 && result.unresolved === 0 && result.expected > 0;
  if (spec.maxDuplicateShare !== undefined && result.expected) {
    result.pass &&= result.duplicates / result.expected <= spec.maxDuplicateShare;
  }
  return result;
}

function summarise(result: DrillResult, events: EventLog, receivers: ReceiverPool, spec: DrillSpec): void {
  const clients = events.targets;
  const accepted = events.accepted;
  const faultEnd = result.fault?.end ?? NaN;
  result.accepted = accepted.length;
  result.refused = events.refused.length;
  result.unresolved = events.unresolved;
  result.expected = accepted.length * clients.length;
  let lastExposed = -Infinity;
  let last = -Infinity;
  let firstAfter = Infinity;
  const after: number[] = [];
  for (const e of accepted) {
    for (const c of clients) {
      const got = receivers.receipts.get(ReceiverPool.key(c, e.sub));
      if (!got) continue;
      result.received++;
      last = Math.max(last, got.first);
      if (got.first > faultEnd) firstAfter = Math.min(firstAfter, got.first);
      if (e.submittedAt <= faultEnd) lastExposed = Math.max(lastExposed, got.first);
      else after.push(got.first - e.acceptedAt!);
    }
  }
  result.lost = result.expected - result.received;
  for (const e of events.events) {
    for (const c of clients) {
      const got = receivers.receipts.get(ReceiverPool.key(c, e.sub));
      if (!got) continue;
      result.duplicates += got.count - 1;
      if (e.refusedAt !== undefined) result.refusedDelivered++;
    }
  }
  if (result.lost === 0 && Number.isFinite(faultEnd)) {
    result.recoverSeconds = Number.isFinite(lastExposed) ? Math.max(0, lastExposed - faultEnd) / 1000 : 0;
    result.lastReceiptSeconds = Number.isFinite(last) ? Math.max(0, last - faultEnd) / 1000 : 0;
  }
  if (Number.isFinite(firstAfter)) result.firstAfterSeconds = (firstAfter - faultEnd) / 1000;
  const durations = events.events
    .map((e: EventRecord) => (e.acceptedAt ?? e.refusedAt ?? NaN) - e.submittedAt)
    .filter(Number.isFinite);
  result.recordMaxMs = durations.length ? Math.max(...durations) : NaN;
  result.afterFault = {
    events: accepted.filter((e) => e.submittedAt > faultEnd).length,
    p99: quantile(after, 99),
    max: after.length ? Math.max(...after) : NaN,
  };
  const errors = new Map<string, number>();
  for (const e of events.refused) errors.set(e.error!, (errors.get(e.error!) ?? 0) + 1);
  for (const [msg, n] of [...errors].sort((a, b) => b[1] - a[1]).slice(0, 3)) {
    result.notes.push(`refused ${n} × ${msg.slice(0, 120)}`);
  }
  if (spec.name && receivers.unreadable) result.notes.push(`${receivers.unreadable} requests without a readable logout token`);
}
