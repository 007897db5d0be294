import { SETTINGS, type AppConfig } from '@slo/config';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pad } from '../drive';
import { ReceiverPool } from '../receivers';
import { createDatabase, dropDatabase, purgeRedis, scenarioEnv, startEmitter, type Emitter } from '../stack';
import { cleanupMark, onCleanup, unwind } from './cleanup';
import { EventLog } from './emit';
import type { DrillName, DrillOptions } from './options';
import { claimedCount, deliveryStatuses, liveSlots, openCount } from './probes';
import { emptyResult, summarise, type DrillResult, type Fault } from './result';
import { PrivatePostgres, PrivateRedis } from './servers';
import { WorkerLog, WorkerSupervisor } from './worker';

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
  const result = emptyResult(spec.name);
  const notes = result.notes;
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
      claimed: () => claimedCount(dbUrl),
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
    if (events && receivers) summarise(result, events, receivers);
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
