/**
 * Failure drills for the durable delivery pipeline: `npm run bench:drills [-- --name=value]`
 * (`--help` lists the options).
 *
 * Each drill gets its own database and queue prefix, K clients on loopback receivers and one real
 * worker process from source; events go through LogoutService.record in this process, as the api
 * records them. An event is accepted when record() resolved (refused when it threw, and then not
 * expected); every accepted event must reach every client at least once (the receivers decode the
 * logout token's payload, unverified, and key receipts by client and sub). Drills:
 *   kill9         a 10,000-delivery burst; the worker is SIGKILLed 5 times and restarted at once;
 *   redis-wipe    the same burst; every Redis key of the deployment's prefix is deleted mid-way;
 *   pg-restart    a steady pace of events on a private PostgreSQL 15 cluster that is restarted;
 *   redis-outage  a steady pace of events on a private redis-server stopped for 10 s, then started empty.
 * Exits 1 if a drill loses a delivery, kill9's duplicates exceed 1 %, or a drill cannot run.
 */
import 'reflect-metadata';
import { loadConfigFromProcess } from '@slo/config';
import { cpus } from 'node:os';
import { fmt, table } from './stats';
import { unwind } from './drills/cleanup';
import { drillSettings, runDrill } from './drills/harness';
import type { DrillResult } from './drills/result';
import { parseOptions, USAGE, UsageError, type DrillName, type DrillOptions } from './drills/options';
import { SPECS } from './drills/scenarios';
import { shutdown } from './drills/worker';

const pct = (n: number, of: number) => (of ? `${((n / of) * 100).toFixed(2)} %` : '–');
const seconds = (s: number | null) => (s === null ? 'never' : `${s.toFixed(1)} s`);
const maybe = (s: number | null) => (s === null ? '–' : `${s.toFixed(1)} s`);

function configLine(opts: DrillOptions): string {
  const { settings, leaseSupported } = drillSettings(opts);
  const worker = Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return (
    `config: ${opts.clients} clients on ${opts.receivers} loopback receivers; 1 worker process; worker settings ${worker}` +
    (leaseSupported ? '' : ' (DELIVERY_LEASE_SECONDS not in this code: the claim lease is its built-in one)') +
    `, others at their defaults; kill9/redis-wipe: ${opts.events} events burst, ${opts.emitConcurrency} record() in flight; ` +
    `kill9: ${opts.kills} SIGKILLs; pg-restart: ${opts.rate} events/s for ${opts.pgSeconds} s, down ${opts.pgDownSeconds} s from ` +
    `t=${opts.pgFaultAt} s; redis-outage: ${opts.rate} events/s for ${opts.redisSeconds} s, down ${opts.redisDownSeconds} s from ` +
    `t=${opts.redisFaultAt} s; time limit ${opts.maxDrillSeconds} s per drill`
  );
}

function report(opts: DrillOptions, results: DrillResult[]): string {
  const cpu = cpus();
  const out: string[] = [
    '',
    'Failure drills',
    `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}`,
    configLine(opts),
    '',
    table(
      ['drill', 'accepted', 'refused', 'expected', 'received', 'lost', 'duplicates', 'dup %', 'recover', 'result'],
      results.map((r) => [
        r.name,
        fmt.int(r.accepted),
        fmt.int(r.refused),
        fmt.int(r.expected),
        fmt.int(r.received),
        fmt.int(r.lost),
        fmt.int(r.duplicates),
        pct(r.duplicates, r.expected),
        seconds(r.recoverSeconds),
        r.pass ? 'PASS' : 'FAIL',
      ]),
    ),
    '',
    'accepted: record() resolved; refused: it threw (not expected). expected = accepted × clients; received: distinct (client, sub)',
    'pairs of accepted events that reached the receivers; lost = expected − received; duplicates: receipts beyond the first.',
    'recover: end of the fault (last SIGKILL, wipe done, PostgreSQL / Redis answering again) → last first receipt of an event',
    'whose record() began before the fault ended ("never": not all arrived within the time limit).',
  ];
  for (const r of results) {
    out.push('', `${r.name}: ${r.pass ? 'PASS' : 'FAIL'}${r.error ? ` (${r.error})` : ''}`);
    for (const n of r.fault?.notes ?? []) out.push(`  ${n}`);
    const lines = [
      `record(): longest call ${fmt.ms(r.recordMaxMs)}` +
        (r.unresolved ? `; ${r.unresolved} calls never returned` : '') +
        (r.refusedDelivered ? `; ${fmt.int(r.refusedDelivered)} deliveries arrived for refused events` : ''),
      `after the fault: first receipt ${maybe(r.firstAfterSeconds)}, last receipt of any event ${maybe(r.lastReceiptSeconds)}; ` +
        `events submitted after it: ` +
        `${fmt.int(r.afterFault.events)}, accepted → receipt p99 ${fmt.ms(r.afterFault.p99)}, max ${fmt.ms(r.afterFault.max)}`,
      `PostgreSQL at the end: ${r.statuses ? JSON.stringify(r.statuses) : 'unreadable'}; ` +
        (r.settled ? `settled (nothing open) ${maybe(r.settledSeconds)} after the fault` : 'NOT settled'),
      `outbox relay (worker log): re-enqueued ${fmt.int(r.relayRequeued)}; worker exits on its own: ${r.workerSelfExits}`,
      ...r.notes,
    ];
    for (const l of lines) out.push(`  ${l}`);
    if (r.workerLog.length) out.push(`  worker warnings/errors: ${r.workerLog.join('; ')}`);
  }
  const by = (name: DrillName) => results.find((r) => r.name === name);
  const rec = (name: DrillName) => {
    const r = by(name);
    return !r ? '-' : r.recoverSeconds === null ? 'none' : r.recoverSeconds.toFixed(1);
  };
  const k = by('kill9');
  const lost = results.reduce((n, r) => n + r.lost, 0);
  out.push(
    '',
    `RESULT drills lost=${lost} kill9_dup_pct=${k && k.expected ? ((k.duplicates / k.expected) * 100).toFixed(2) : '-'} ` +
      `kill9_recover_s=${rec('kill9')} redis_wipe_recover_s=${rec('redis-wipe')} pg_restart_recover_s=${rec('pg-restart')} ` +
      `redis_outage_recover_s=${rec('redis-outage')}`,
  );
  return out.join('\n') + '\n';
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const opts = parseOptions(argv);
  const base = loadConfigFromProcess();
  process.stderr.write(`${configLine(opts)}\n`);
  const results: DrillResult[] = [];
  for (const name of opts.drills) {
    if (interrupted) break;
    results.push(await runDrill(SPECS[name], base, opts));
  }
  process.stdout.write(report(opts, results));
  return results.every((r) => r.pass) ? 0 : 1;
}

let interrupted = false;
const log = (m: string) => process.stderr.write(`${m}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    shutdown.started = true;
    log(`${signal}: cleaning up`);
    void unwind(0, log).finally(() => process.exit(130));
  });
}

main().then(
  async (code) => {
    await unwind(0, log);
    process.exit(code);
  },
  async (err: unknown) => {
    if (err instanceof UsageError) log(err.message);
    else if (!interrupted) log(`bench:drills failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    shutdown.started = true;
    await unwind(0, log);
    process.exit(interrupted ? 130 : 1);
  },
);
