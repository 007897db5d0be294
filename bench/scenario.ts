import type { AppConfig } from '@slo/config';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CeilingJob, CeilingResult } from './ceiling-client';
import { costsBetween, sampleCosts, type Costs } from './costs';
import { cpuBetween, cpuSecondsBetween, redisServerPids, sampleCpu } from './cpu';
import type { BenchOptions, ScenarioName } from './options';
import { emitEvents, pad, waitDelivered } from './drive';
import { DeadEndpoint, ExtraEndpoint, ReceiverPool, SlowEndpoint } from './receivers';
import { purgeKeys, redisNodes } from './redis-stats';
import { createDatabase, dropDatabase, ROOT, scenarioEnv, startEmitter, withPg, Workers } from './stack';
import { latencySummary } from './stats';

export interface ScenarioSpec {
  name: ScenarioName;
  alg: 'ES256' | 'RS256';
  /** One more client, targeted by every event, whose endpoint never answers or answers slowly. */
  extra: 'dead' | 'slow' | null;
  ceiling: boolean;
  /** Names this run (database, queue prefix, log lines, latency CSV) when a scenario runs more than once; default: name. */
  label?: string;
  /** Its own emission, instead of --events and --rate (the idle scenario's steady pace). */
  events?: number;
  rate?: number;
}

type Cpu = ReturnType<typeof cpuBetween>;

export interface ScenarioResult {
  spec: ScenarioSpec;
  label: string;
  /** Events emitted (measured, after the warm-up) and their pace (events per second; 0 = burst). */
  events: number;
  rate: number;
  /** Deliveries to healthy endpoints (the ones waited for). */
  deliveries: number;
  emitSeconds: number;
  /** First event accepted → last healthy delivery's delivered_at. */
  pipelineSeconds: number;
  /** Start of emission → the poll that saw every healthy delivery delivered. */
  wallSeconds: number;
  latency: { p50: number; p99: number; max: number; count: number };
  duplicates: number;
  healthyRetried: number;
  redisCommandsPerDelivery: number;
  pgTransactionsPerDelivery: number;
  /** Redis commands per node and PostgreSQL rows and bytes, per delivery (warm-up included, as for the two above). */
  costs: Costs;
  cpu: Cpu;
  /** CPU milliseconds per measured delivery, by group (worker, bench, postgres, redis, other). */
  cpuMsPerDelivery: Record<string, number>;
  /** The extra endpoint: requests (connections when dead), recorded attempts, its deliveries' states at the end. */
  extra?: { requests: number; attempts: number; statuses: Record<string, number> };
  ceiling?: CeilingResult & { bodyBytes: number; cpu: Cpu };
}

/** The running scenario's cleanup, for an interrupted run. */
let activeCleanup: (() => Promise<void>) | null = null;
export const cleanupActiveScenario = () => activeCleanup?.() ?? Promise.resolve();

const EXTRA_CLIENT = 'bench-extra';
/** The worker's request headers (libs/delivery/src/delivery-request.ts), for the ceiling client. */
const SENDER_HEADERS = {
  'content-type': 'application/x-www-form-urlencoded',
  accept: 'application/json',
  'user-agent': 'slo-coordinator/1 (back-channel logout)',
};

async function runCeiling(job: CeilingJob): Promise<{ result: CeilingResult; cpu: Cpu }> {
  const child = fork(resolve(__dirname, 'ceiling-client.ts'), [], {
    cwd: ROOT,
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const early = exited.then(() => Promise.reject(new Error('the ceiling client exited early')));
  early.catch(() => undefined);
  const next = () => Promise.race([once(child, 'message').then(([m]) => m as unknown), early]);
  try {
    if ((await next()) !== 'ready') throw new Error('the ceiling client did not start');
    const before = sampleCpu({ ceiling: [child.pid!], bench: [process.pid] });
    const answer = next();
    child.send(job);
    const result = (await answer) as CeilingResult;
    const cpu = cpuBetween(before, sampleCpu({ ceiling: [child.pid!], bench: [process.pid] }));
    await exited;
    return { result, cpu };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * One scenario from scratch: its own database and queue prefix, K clients on loopback receivers
 * (plus, in some scenarios, one endpoint that never answers or answers slowly), the real worker,
 * a warm-up, then E events emitted through LogoutService.record and a wait until every healthy
 * delivery is `delivered` in PostgreSQL. The es256 scenario then measures the plain-client ceiling.
 */
export async function runScenario(spec: ScenarioSpec, base: AppConfig, opts: BenchOptions): Promise<ScenarioResult> {
  const label = spec.label ?? spec.name;
  const events = spec.events ?? opts.events;
  const rate = spec.rate ?? opts.rate;
  const log = (msg: string) => process.stderr.write(`[${label}] ${msg}\n`);
  const s = scenarioEnv(base, label, {
    DELIVERY_CONCURRENCY: String(opts.concurrency),
    DELIVERY_ENDPOINT_CONCURRENCY: String(opts.endpointConcurrency),
    DELIVERY_TIMEOUT_MS: String(opts.timeoutMs),
    DELIVERY_SHARDS: String(opts.shards),
    ...opts.env,
  });
  const cleanups: (() => Promise<unknown>)[] = [];
  let cleaning: Promise<void> | null = null;
  // One cleanup, whoever asks first (the scenario's end, or an interrupt) and whoever waits.
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of cleanups.splice(0).reverse()) await fn().catch((err: unknown) => log(`cleanup: ${String(err)}`));
    })());
  activeCleanup = cleanup;
  try {
    cleanups.push(
      () => dropDatabase(s),
      async () => purgeKeys(await redisNodes({ url: s.config.redis.url, clusterNodes: s.env.REDIS_CLUSTER_NODES }), s.prefix),
    );
    await createDatabase(s);
    const receivers = await ReceiverPool.start(opts.receivers);
    cleanups.push(() => receivers.close());
    const extra: ExtraEndpoint | null =
      spec.extra === 'dead' ? await DeadEndpoint.start() : spec.extra === 'slow' ? await SlowEndpoint.start(opts.slowMs) : null;
    if (extra) cleanups.push(() => extra.close());
    const emitter = await startEmitter(s.config);
    cleanups.push(() => emitter.close());
    await emitter.keys.ensureActiveKeys();

    const healthy = Array.from({ length: opts.clients }, (_, i) => `bench-client-${pad(i, 4)}`);
    for (const [i, clientId] of healthy.entries()) {
      await emitter.clients.create({
        client_id: clientId,
        client_name: clientId,
        grant_types: ['client_credentials'],
        backchannel_logout_uri: receivers.uriFor(i, clientId),
        id_token_signed_response_alg: spec.alg,
      });
    }
    if (extra) {
      await emitter.clients.create({
        client_id: EXTRA_CLIENT,
        client_name: EXTRA_CLIENT,
        grant_types: ['client_credentials'],
        backchannel_logout_uri: extra.url,
        id_token_signed_response_alg: spec.alg,
      });
    }
    const targets = extra ? [...healthy, EXTRA_CLIENT] : healthy;
    const expected = healthy.length * events;
    const warmup = healthy.length * opts.warmupEvents;

    log(`starting ${opts.workers} worker process(es)`);
    const workers = await Workers.start(s.env, opts.workers, opts.cpuProf);
    cleanups.push(() => workers.stop());
    const deadline = Date.now() + opts.maxWaitSeconds * 1000;
    const wait = (n: number) =>
      waitDelivered(s.config.database.url, { expected: n, excludeClient: EXTRA_CLIENT, deadline, workers, log });
    const costsBefore = await sampleCosts(s);
    let polls = 0;
    if (warmup) {
      // Warm-up (healthy clients only, not measured): JIT, pools, connections, the worker's key cache.
      log(`warm-up: ${opts.warmupEvents} events × ${healthy.length} clients`);
      await emitEvents(emitter.logout, { first: 0, count: opts.warmupEvents, targets: healthy, rate: 0, concurrency: 1 });
      polls += (await wait(warmup)).polls;
      receivers.reset();
    }

    // On --cluster its nodes are a group of their own (`cluster`); `redis` is then every other redis-server.
    const clusterPorts = (s.env.REDIS_CLUSTER_NODES ?? '')
      .split(',')
      .filter(Boolean)
      .map((n) => Number(n.split(':')[1]));
    const groups = { worker: workers.pids, bench: [process.pid], cluster: redisServerPids(clusterPorts) };
    const cpuBefore = sampleCpu(groups);
    log(`emitting ${events} events × ${targets.length} clients (${rate ? `${rate} events/s` : 'burst'})`);
    const started = Date.now();
    const accepted = await emitEvents(emitter.logout, {
      first: opts.warmupEvents,
      count: events,
      targets,
      rate,
      concurrency: opts.emitConcurrency,
    });
    const emitSeconds = (Date.now() - started) / 1000;
    log(`emitted in ${emitSeconds.toFixed(1)} s; waiting for ${expected} deliveries`);
    const done = await wait(warmup + expected);
    polls += done.polls;
    const cpuAfter = sampleCpu(groups);
    const cpu = cpuBetween(cpuBefore, cpuAfter);
    // Facts beyond `status = 'delivered'` read more of the pipeline's schema: a query that fails (the schema
    // changed) leaves its figure out (NaN) rather than the run. `factQueries` counts the ones that committed.
    let factQueries = 0;
    const facts = await withPg(s.config.database.url, async (c) => {
      const ask = async <T extends object>(sql: string): Promise<T[] | null> => {
        try {
          const { rows } = await c.query<T>(sql, [EXTRA_CLIENT]);
          factQueries++;
          return rows;
        } catch (err) {
          log(`left out (${err instanceof Error ? err.message : String(err)}): ${sql.replace(/\s+/g, ' ')}`);
          return null;
        }
      };
      const retried = await ask<{ n: string }>(`SELECT count(*) AS n FROM deliveries WHERE client_id <> $1 AND attempts > 1`);
      const extraAttempts = await ask<{ n: string }>(
        `SELECT count(*) AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.client_id = $1`,
      );
      const extraStatuses = await ask<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM deliveries WHERE client_id = $1 GROUP BY status`,
      );
      return {
        retried: retried ? Number(retried[0].n) : NaN,
        extraAttempts: extraAttempts ? Number(extraAttempts[0].n) : NaN,
        extraStatuses: Object.fromEntries((extraStatuses ?? []).map((r) => [r.status, Number(r.n)])),
      };
    });
    await workers.stop();
    await emitter.close();
    // Ended backends flush their statistics; the poll's and the queries' above own transactions are not the pipeline's.
    await new Promise((r) => setTimeout(r, 1000));
    const costsAfter = await sampleCosts(s);
    // Not the pipeline's either: the first sample's own query in the scenario's database.
    const pgTransactions = costsAfter.pgCommits - costsBefore.pgCommits - polls - factQueries - 1;
    const costs = await costsBetween(s, costsBefore, costsAfter, warmup + expected, opts.shards);

    const latencies: number[] = [];
    const csv = ['client,sub,accepted_ms,receipt_ms,latency_ms'];
    for (const [key, { first: at }] of receivers.receipts) {
      const [clientId, sub] = key.split(' ');
      if (clientId === EXTRA_CLIENT || !accepted.has(sub)) continue;
      latencies.push(at - accepted.get(sub)!);
      csv.push(`${clientId},${sub},${accepted.get(sub)! - started},${at - started},${at - accepted.get(sub)!}`);
    }
    if (opts.latencyCsv) {
      mkdirSync(opts.latencyCsv, { recursive: true });
      writeFileSync(join(opts.latencyCsv, `${label}.csv`), csv.join('\n') + '\n');
    }
    const result: ScenarioResult = {
      spec,
      label,
      events,
      rate,
      deliveries: expected,
      emitSeconds,
      pipelineSeconds: (done.lastDeliveredMs - Math.min(...accepted.values())) / 1000,
      wallSeconds: (done.seenAt - started) / 1000,
      latency: latencySummary(latencies),
      duplicates: receivers.duplicates,
      healthyRetried: facts.retried,
      redisCommandsPerDelivery: costs.redisTotal,
      pgTransactionsPerDelivery: pgTransactions / (warmup + expected),
      costs,
      cpu,
      cpuMsPerDelivery: Object.fromEntries(
        Object.entries(cpuSecondsBetween(cpuBefore, cpuAfter)).map(([g, sec]) => [g, (sec * 1000) / expected]),
      ),
      extra: extra ? { requests: extra.requests, attempts: facts.extraAttempts, statuses: facts.extraStatuses } : undefined,
    };
    if (latencies.length !== expected) log(`warning: ${latencies.length} receipts matched for ${expected} deliveries`);

    if (spec.ceiling) {
      if (!receivers.sampleBody) throw new Error('no request body was received to replay');
      receivers.recording = false;
      const total = expected;
      log(`ceiling: ${total} POSTs of ${receivers.sampleBody.length} bytes, ${opts.concurrency * opts.workers} in flight`);
      const { result: ceiling, cpu: ceilingCpu } = await runCeiling({
        urls: healthy.map((id, i) => receivers.uriFor(i, id)),
        body: receivers.sampleBody,
        headers: SENDER_HEADERS,
        total,
        concurrency: opts.concurrency * opts.workers,
      });
      if (ceiling.failed) throw new Error(`the ceiling client saw ${ceiling.failed} failed requests`);
      result.ceiling = { ...ceiling, bodyBytes: Buffer.byteLength(receivers.sampleBody), cpu: ceilingCpu };
    }
    return result;
  } finally {
    await cleanup();
    activeCleanup = null;
  }
}
