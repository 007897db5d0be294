import { cpus } from 'node:os';
import { idleEvents, type BenchOptions } from './options';
import type { ScenarioResult } from './scenario';
import type { SigningRate } from './signing';
import { fmt, median, table } from './stats';

/** The fan-out benchmark's report (bench/fanout.ts): the tables, the PASS/FAIL lines and the RESULT line. */
const perSecond = (n: number, seconds: number) => n / seconds;
const pipelineRate = (r: ScenarioResult) => perSecond(r.deliveries, r.pipelineSeconds);
const ceilingRate = (r: ScenarioResult) => (r.ceiling ? perSecond(r.ceiling.total, r.ceiling.durationMs / 1000) : NaN);

function cores(r: ScenarioResult['cpu'], group: string): string {
  return r ? (r.cores[group] ?? 0).toFixed(2) : '–';
}

/** A scenario that did not complete: its error, printed in the report; its figures are na. */
export interface Failure {
  label: string;
  message: string;
}

/** The figures of the RESULT line (NaN = na); the es256 ones come from the median run. */
interface Figures {
  fanout: number;
  raw: number;
  ratio: number;
  p50: number;
  p99: number;
  hang: number;
  deadP99: number;
  idleP99: number;
  rs256: number;
  redis: number;
  pg: number;
  workerCpuMs: number;
  redisMaxNode: number;
  pgRows: number;
  pgBytes: number;
}

/** The es256 run whose ratio is the median of the es256 runs (nearest rank: the lower middle for an even count). */
function medianRun(results: ScenarioResult[]): ScenarioResult | undefined {
  const runs = results.filter((r) => r.spec.name === 'es256');
  const ratios = runs.map((r) => pipelineRate(r) / ceilingRate(r));
  const m = median(ratios);
  return runs.find((_, i) => ratios[i] === m) ?? runs[0];
}

function figures(results: ScenarioResult[]): Figures {
  const base = medianRun(results);
  const dead = results.find((r) => r.spec.name === 'dead-endpoint');
  const idle = results.find((r) => r.spec.name === 'idle');
  const rs256 = results.find((r) => r.spec.name === 'rs256');
  const fanout = base ? pipelineRate(base) : NaN;
  const raw = base ? ceilingRate(base) : NaN;
  return {
    fanout,
    raw,
    ratio: fanout / raw,
    p50: base?.latency.p50 ?? NaN,
    p99: base?.latency.p99 ?? NaN,
    hang: dead && base ? dead.latency.p99 / base.latency.p99 : NaN,
    deadP99: dead?.latency.p99 ?? NaN,
    idleP99: idle?.latency.p99 ?? NaN,
    rs256: rs256 ? pipelineRate(rs256) : NaN,
    redis: base?.redisCommandsPerDelivery ?? NaN,
    pg: base?.pgTransactionsPerDelivery ?? NaN,
    workerCpuMs: base?.cpuMsPerDelivery.worker ?? NaN,
    redisMaxNode: base?.costs.redisMaxNode ?? NaN,
    pgRows: base?.costs.pgRows ?? NaN,
    pgBytes: base?.costs.pgBytes ?? NaN,
  };
}

/** `na` for a figure that was not measured, else the number with `digits` decimals (no thousands separators). */
const field = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'na');

function resultLine(f: Figures, opts: BenchOptions): string {
  return (
    'RESULT ' +
    [
      `fanout_per_s=${field(f.fanout, 0)}`,
      `raw_per_s=${field(f.raw, 0)}`,
      `ratio=${field(f.ratio, 3)}`,
      `p50_ms=${field(f.p50, 0)}`,
      `p99_ms=${field(f.p99, 0)}`,
      `hang_p99_ratio=${field(f.hang, 3)}`,
      `idle_p99_ms=${field(f.idleP99, 0)}`,
      `rs256_per_s=${field(f.rs256, 0)}`,
      `redis_cmds_per_delivery=${field(f.redis, 2)}`,
      `pg_xacts_per_delivery=${field(f.pg, 2)}`,
      `shards=${opts.shards}`,
      `workers=${opts.workers}`,
      `cluster=${opts.cluster ? 'yes' : 'no'}`,
      `worker_cpu_ms_per_delivery=${field(f.workerCpuMs, 3)}`,
      `redis_cmds_per_delivery_max_node=${field(f.redisMaxNode, 2)}`,
      `pg_rows_per_delivery=${field(f.pgRows, 2)}`,
      `pg_bytes_per_delivery=${field(f.pgBytes, 0)}`,
    ].join(' ')
  );
}

function costsTable(results: ScenarioResult[]): string {
  const ms = (r: ScenarioResult, g: string) => (r.cpuMsPerDelivery[g] ?? NaN).toFixed(3);
  return table(
    [
      'scenario',
      'redis cmds per node [shards]',
      'top commands',
      'pg rows',
      'pg bytes',
      'cpu ms: worker',
      'bench',
      'pg',
      'redis',
      'cluster',
    ],
    results.map((r) => [
      r.label,
      r.costs.redisByNode.map((n) => `${n.node} ${n.perDelivery.toFixed(1)} [${n.shards.join(',')}]`).join('; '),
      r.costs.redisTopCommands.map(([c, n]) => `${c} ${n.toFixed(2)}`).join(', '),
      r.costs.pgRows.toFixed(2),
      r.costs.pgBytes.toFixed(0),
      ms(r, 'worker'),
      ms(r, 'bench'),
      ms(r, 'postgres'),
      ms(r, 'redis'),
      ms(r, 'cluster'),
    ]),
  );
}

export function report(
  opts: BenchOptions,
  results: ScenarioResult[],
  failures: Failure[],
  signing: SigningRate[],
): { text: string; failed: boolean } {
  const out: string[] = [];
  const cpu = cpus();
  const scenarios = opts.scenarios.map((n) => (n === 'es256' && opts.repeat > 1 ? `es256 ×${opts.repeat}` : n)).join(', ');
  out.push(
    '',
    'Fan-out benchmark',
    `machine: ${cpu.length} cores (${cpu[0]?.model ?? 'unknown'}), Node ${process.version}`,
    `scenarios: ${scenarios}`,
    `config: ${opts.clients} clients × ${opts.events} events = ${opts.clients * opts.events} deliveries per scenario; ` +
      `${opts.workers} worker process(es) × DELIVERY_CONCURRENCY ${opts.concurrency}; ` +
      `DELIVERY_SHARDS ${opts.shards} on ${opts.cluster ? 'a local 3-master Redis Cluster' : 'one Redis'}; ` +
      `DELIVERY_ENDPOINT_CONCURRENCY ${opts.endpointConcurrency}; DELIVERY_TIMEOUT_MS ${opts.timeoutMs}; ` +
      `emission: ${opts.rate ? `${opts.rate} events/s` : `burst, ${opts.emitConcurrency} record() calls in flight`}; ` +
      (opts.scenarios.includes('idle')
        ? `idle: ${opts.idleRate} events/s for ${opts.idleSeconds} s = ${opts.clients * idleEvents(opts)} deliveries; `
        : '') +
      `${opts.receivers} receiver servers` +
      Object.entries(opts.env)
        .map(([k, v]) => `; ${k} ${v}`)
        .join(''),
    '',
  );
  out.push(
    table(
      ['scenario', 'deliveries', 'emission', 'emit', 'deliveries/s', 'wall deliveries/s', 'p50', 'p99', 'max', 'retried', 'dup'],
      results.map((r) => [
        `${r.label} (${r.spec.alg})`,
        fmt.int(r.deliveries),
        r.rate ? `${r.rate}/s` : 'burst',
        fmt.s(r.emitSeconds),
        fmt.int(pipelineRate(r)),
        fmt.int(perSecond(r.deliveries, r.wallSeconds)),
        fmt.ms(r.latency.p50),
        fmt.ms(r.latency.p99),
        fmt.ms(r.latency.max),
        fmt.int(r.healthyRetried),
        fmt.int(r.duplicates),
      ]),
    ),
    '',
    'deliveries/s: healthy deliveries ÷ (first event accepted → last delivered_at); wall: ÷ (emission start → all seen delivered).',
    'p50/p99/max: event accepted (record() resolved) → receipt at the endpoint, healthy deliveries only.',
    '',
    table(
      ['scenario', 'redis cmds/delivery', 'pg xacts/delivery', 'worker', 'bench', 'postgres', 'redis', 'other', 'busy', 'steal'],
      results.map((r) => [
        r.label,
        r.redisCommandsPerDelivery.toFixed(1),
        r.pgTransactionsPerDelivery.toFixed(1),
        cores(r.cpu, 'worker'),
        cores(r.cpu, 'bench'),
        cores(r.cpu, 'postgres'),
        cores(r.cpu, 'redis'),
        cores(r.cpu, 'other'),
        r.cpu ? fmt.pct(r.cpu.busyShare) : '–',
        r.cpu ? fmt.pct(r.cpu.stealShare) : '–',
      ]),
    ),
    'CPU, from emission start to the last delivery: cores used by the worker process(es), this process (emitter and receivers),',
    'PostgreSQL, Redis and everything else; busy and steal: shares of the whole machine (steal: taken by the hypervisor).',
    '',
    costsTable(results),
    'Per delivery (warm-up included): Redis commands on each node (INFO commandstats; on a cluster every master, with the',
    'delivery shards whose hash tag it holds), the top commands over all nodes, PostgreSQL rows written (n_tup_ins+upd+del)',
    'and table+index bytes grown in the scenario database; CPU ms per measured delivery by process group (cluster: the\n' +
      'nodes of --cluster; redis: every other redis-server).',
  );

  const f = figures(results);
  const base = medianRun(results);
  const es256Runs = results.filter((r) => r.spec.name === 'es256');
  if (es256Runs.length) out.push('');
  for (const r of es256Runs) {
    const c = r.ceiling!;
    out.push(
      `ceiling${es256Runs.length > 1 ? ` (${r.label})` : ''}: ${fmt.int(c.total)} POSTs of ${c.bodyBytes} bytes, ` +
        `${opts.concurrency * opts.workers} in flight, plain Node client: ${fmt.int(ceilingRate(r))} req/s ` +
        `(client ${cores(c.cpu, 'ceiling')} cores, receivers ${cores(c.cpu, 'bench')} cores)`,
      `${r.label} pipeline / ceiling: ${fmt.pct(pipelineRate(r) / ceilingRate(r))} ` +
        `(${fmt.int(pipelineRate(r))} of ${fmt.int(ceilingRate(r))} per second)`,
    );
  }
  if (es256Runs.length > 1 && base) {
    const ratios = es256Runs.map((r) => (pipelineRate(r) / ceilingRate(r)).toFixed(3));
    out.push(
      `es256 / ceiling over ${es256Runs.length} runs: ${ratios.join(', ')}; median ${f.ratio.toFixed(3)} (${base.label}: ` +
        `the RESULT line's es256 figures and the p99 the endpoint scenarios are compared with come from this run)`,
    );
  }
  for (const r of results.filter((x) => x.extra)) {
    if (!base) break;
    const ratio = r.latency.p99 / base.latency.p99;
    const what = r.spec.extra === 'dead' ? 'never answers' : `answers after ${opts.slowMs} ms`;
    out.push(
      '',
      `${r.label} (one more endpoint that ${what}): healthy p99 ${fmt.ms(r.latency.p99)} vs ${fmt.ms(base.latency.p99)} ` +
        `in ${base.label}: ${fmt.ratio(ratio)} (limit ${fmt.ratio(opts.ratioLimit)}${r.spec.extra === 'dead' ? '' : ', informative'})`,
      `  that endpoint got ${r.extra!.requests} ${r.spec.extra === 'dead' ? 'connections' : 'requests'} and ` +
        `${fmt.int(r.extra!.attempts)} recorded attempts; its deliveries at the end: ${JSON.stringify(r.extra!.statuses)}`,
    );
  }
  const idle = results.find((r) => r.spec.name === 'idle');
  if (idle) {
    out.push(
      '',
      `idle (${idle.rate} events/s × ${opts.clients} clients for ${opts.idleSeconds} s, ${fmt.int(idle.deliveries)} deliveries): ` +
        `p50 ${fmt.ms(idle.latency.p50)}, p99 ${fmt.ms(idle.latency.p99)}, max ${fmt.ms(idle.latency.max)}`,
    );
  }
  if (signing.length) {
    out.push('', 'signatures per second (jose SignJWT, logout-token claims):');
    for (const s of signing) {
      out.push(
        `  ${s.alg}: ${fmt.int(s.perCore)} per CPU-second (one core); wall rate ${fmt.int(s.sequential)}/s one at a time, ` +
          `${fmt.int(s.parallel)}/s with ${s.inFlight} in flight`,
      );
    }
  }

  // The requirements: a PASS/FAIL line each (na when its scenario did not run or complete), then the RESULT line.
  let failed = failures.length > 0;
  out.push('');
  for (const x of failures) out.push(`FAIL scenario ${x.label} did not complete: ${x.message}`);
  const check = (name: string, value: number, text: string, pass: boolean, requirement: string, missing: string) => {
    if (!Number.isFinite(value)) {
      out.push(`na   ${name}=na (requirement ${requirement}): ${missing}`);
      return;
    }
    failed ||= !pass;
    out.push(`${pass ? 'PASS' : 'FAIL'} ${name}=${text} (requirement ${requirement})`);
  };
  check(
    'ratio',
    f.ratio,
    `${f.ratio.toFixed(3)}: es256 ${fmt.int(f.fanout)}/s of ceiling ${fmt.int(f.raw)}/s` +
      (es256Runs.length > 1 ? `, median of ${es256Runs.length} runs` : ''),
    f.ratio >= opts.minRatio,
    `≥ ${opts.minRatio}`,
    'es256 did not run or complete',
  );
  check(
    'hang_p99_ratio',
    f.hang,
    `${f.hang.toFixed(3)}: dead-endpoint healthy p99 ${fmt.ms(f.deadP99)} ÷ es256 p99 ${fmt.ms(f.p99)}`,
    f.hang <= opts.ratioLimit,
    `≤ ${opts.ratioLimit}`,
    'dead-endpoint or es256 did not run or complete',
  );
  check(
    'idle_p99_ms',
    f.idleP99,
    `${Math.round(f.idleP99)}`,
    f.idleP99 <= opts.idleP99LimitMs,
    `≤ ${opts.idleP99LimitMs}`,
    'idle did not run or complete',
  );
  out.push(resultLine(f, opts));
  return { text: out.join('\n') + '\n', failed };
}
