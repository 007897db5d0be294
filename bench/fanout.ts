/**
 * Back-channel logout fan-out benchmark (docs/performance.md): `npm run bench:fanout [-- --name=value]`.
 *
 * Per scenario: a fresh database and queue prefix, K clients on loopback receivers, the real
 * worker in its own process, logout events through LogoutService.record, each targeting every
 * client; deliveries per second until every healthy delivery is `delivered` in PostgreSQL, and
 * p50/p99 from event accepted (record() resolved) to receipt. Nothing else of the pipeline is
 * assumed. Scenarios:
 *   es256          E events (a burst, or --rate) to ES256 clients; then the machine's ceiling: the same
 *                  number of POSTs of the same body, sent to the same receivers by a plain Node HTTP
 *                  client, same concurrency. --repeat=N runs both N times; the ratio is their median;
 *   dead-endpoint  es256 plus one client whose endpoint never answers, targeted by every event;
 *   rs256          es256 with RS256 clients;
 *   idle           ES256 at a steady low pace of its own (--idle-rate events/s for --idle-seconds);
 *   slow-endpoint  (not by default) es256 plus one client whose endpoint answers after --slow-ms.
 * Then signatures per second (jose) for ES256 and RS256.
 *
 * Requirements, one PASS/FAIL line each: es256 ÷ ceiling ≥ --min-ratio; dead-endpoint healthy p99 ÷
 * es256 p99 ≤ --ratio-limit; idle p99 ≤ --idle-p99-limit-ms. The last line printed is always
 *   RESULT fanout_per_s= raw_per_s= ratio= p50_ms= p99_ms= hang_p99_ratio= idle_p99_ms= rs256_per_s=
 *          redis_cmds_per_delivery= pg_xacts_per_delivery= shards= workers= cluster= worker_cpu_ms_per_delivery=
 *          redis_cmds_per_delivery_max_node= pg_rows_per_delivery= pg_bytes_per_delivery=
 * --cluster runs every scenario on a local 3-master Redis Cluster (scripts/redis-cluster.sh), stopped at the end;
 * --shards=S sets DELIVERY_SHARDS; the costs table gives Redis commands per delivery on each master and its shards.
 * (na where the scenario did not run or did not complete); exit code 1 if a requirement fails or
 * a scenario does not complete.
 */
import 'reflect-metadata';
import { loadConfigFromProcess } from '@slo/config';
import { startRedisCluster, type RedisCluster } from '@slo/testing';
import { report, type Failure } from './fanout-report';
import { idleEvents, parseOptions, USAGE, UsageError, type BenchOptions, type ScenarioName } from './options';
import { cleanupActiveScenario, runScenario, type ScenarioResult, type ScenarioSpec } from './scenario';
import type { SigningRate } from './signing';

const SPECS: Record<ScenarioName, ScenarioSpec> = {
  es256: { name: 'es256', alg: 'ES256', extra: null, ceiling: true },
  'dead-endpoint': { name: 'dead-endpoint', alg: 'ES256', extra: 'dead', ceiling: false },
  rs256: { name: 'rs256', alg: 'RS256', extra: null, ceiling: false },
  idle: { name: 'idle', alg: 'ES256', extra: null, ceiling: false },
  'slow-endpoint': { name: 'slow-endpoint', alg: 'ES256', extra: 'slow', ceiling: false },
};

/** The runs of one bench: es256 --repeat times, idle at its own pace, the others once each. */
function plan(opts: BenchOptions): ScenarioSpec[] {
  return opts.scenarios.flatMap((name): ScenarioSpec[] => {
    const spec = SPECS[name];
    if (name === 'es256' && opts.repeat > 1) {
      return Array.from({ length: opts.repeat }, (_, i) => ({ ...spec, label: `es256-run${i + 1}` }));
    }
    if (name === 'idle') return [{ ...spec, events: idleEvents(opts), rate: opts.idleRate }];
    return [spec];
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const opts = parseOptions(argv);
  const base = loadConfigFromProcess();
  if (opts.cluster) {
    process.stderr.write('starting a local Redis Cluster (scripts/redis-cluster.sh, 3 masters)\n');
    cluster = await startRedisCluster();
    opts.env.REDIS_CLUSTER_NODES = cluster.nodes;
    process.stderr.write(`REDIS_CLUSTER_NODES=${cluster.nodes}\n`);
  }
  const results: ScenarioResult[] = [];
  const failures: Failure[] = [];
  // A scenario that fails is reported and the others still run: the RESULT line is always printed.
  for (const spec of plan(opts)) {
    try {
      results.push(await runScenario(spec, base, opts));
    } catch (err) {
      if (interrupted) throw err;
      const label = spec.label ?? spec.name;
      process.stderr.write(`[${label}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      failures.push({ label, message: err instanceof Error ? err.message : String(err) });
    }
  }
  const signing: SigningRate[] = [];
  if (opts.signSeconds > 0) {
    process.stderr.write('measuring signatures per second\n');
    try {
      // Loaded only when asked for: the signing measure is not needed for the fan-out figures.
      const { measureSigning } = await import('./signing');
      for (const alg of ['ES256', 'RS256'] as const) signing.push(await measureSigning(alg, opts.signSeconds));
    } catch (err) {
      if (interrupted) throw err;
      failures.push({ label: 'signing measure', message: err instanceof Error ? err.message : String(err) });
    }
  }
  const { text, failed } = report(opts, results, failures, signing);
  process.stdout.write(text);
  return failed ? 1 : 0;
}

let interrupted = false;
/** The local cluster of --cluster, stopped whichever way the bench ends. */
let cluster: RedisCluster | null = null;
const stopCluster = () => cluster?.stop().catch((err: unknown) => process.stderr.write(`stopping the cluster: ${String(err)}\n`));

process.once('SIGINT', () => {
  interrupted = true;
  process.stderr.write('interrupted; cleaning up\n');
  void cleanupActiveScenario()
    .then(stopCluster)
    .finally(() => process.exit(130));
});

main().then(
  async (code) => {
    await stopCluster();
    process.exit(code);
  },
  async (err: unknown) => {
    if (err instanceof UsageError) process.stderr.write(`${err.message}\n`);
    else if (!interrupted) {
      process.stderr.write(`bench:fanout failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    await cleanupActiveScenario();
    await stopCluster();
    process.exit(interrupted ? 130 : 1);
  },
);
