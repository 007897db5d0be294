import { addEnv, nameValue, UsageError } from './cli-args';
/** Command-line settings of the fan-out benchmark: `npm run bench:fanout -- --clients=100 --events=50`. */
export interface BenchOptions {
  /** Healthy receiving clients, each with its own back-channel URI. */
  clients: number;
  /** Logout events of every scenario but idle; each one targets every client. */
  events: number;
  /** Unmeasured events first, to healthy clients only (JIT, pools, connections). */
  warmupEvents: number;
  /** Worker processes (each runs DELIVERY_CONCURRENCY deliveries at once). */
  workers: number;
  /** DELIVERY_SHARDS of every process. */
  shards: number;
  /** Run on a local 3-master Redis Cluster (scripts/redis-cluster.sh), started and stopped by the bench. */
  cluster: boolean;
  concurrency: number;
  endpointConcurrency: number;
  timeoutMs: number;
  /** record() calls in flight at once while emitting. */
  emitConcurrency: number;
  /** Events per second of every scenario but idle; 0 = a burst (as fast as record() allows with emitConcurrency in flight). */
  rate: number;
  /** The idle scenario's own steady pace (events per second) and duration: idleRate × idleSeconds events. */
  idleRate: number;
  idleSeconds: number;
  /** Runs of the es256 scenario and its ceiling; the ratio reported is their median. */
  repeat: number;
  /** HTTP servers the receiving endpoints are spread over. */
  receivers: number;
  scenarios: ScenarioName[];
  /** Seconds each signing micro-measure runs. */
  signSeconds: number;
  /** Longest wait for one scenario's deliveries. */
  maxWaitSeconds: number;
  /** Largest accepted ratio of the healthy p99 with a dead endpoint to the p99 without. */
  ratioLimit: number;
  /** Smallest accepted es256 deliveries/s ÷ plain-client ceiling (the median over --repeat runs). */
  minRatio: number;
  /** Largest accepted p99 of the idle scenario, in ms. */
  idleP99LimitMs: number;
  /** Answer delay of the slow-endpoint scenario's extra endpoint. */
  slowMs: number;
  /** Directory for V8 CPU profiles of the worker processes (node --cpu-prof); '' = none. */
  cpuProf: string;
  /** Directory for one CSV per scenario of every healthy delivery's accepted and receipt times; '' = none. */
  latencyCsv: string;
  /** More worker settings (--env=NAME=value, repeatable), e.g. BREAKER_COOLDOWN_MS. */
  env: Record<string, string>;
}

const SCENARIOS = ['es256', 'dead-endpoint', 'rs256', 'idle', 'slow-endpoint'] as const;
/** Run unless --scenarios says otherwise. */
const DEFAULT_SCENARIOS: ScenarioName[] = ['es256', 'dead-endpoint', 'rs256', 'idle'];
export type ScenarioName = (typeof SCENARIOS)[number];

const DEFAULTS: BenchOptions = {
  clients: 50,
  events: 200,
  warmupEvents: 10,
  workers: 1,
  shards: 1,
  cluster: false,
  concurrency: 64,
  endpointConcurrency: 8,
  timeoutMs: 2000,
  emitConcurrency: 4,
  rate: 0,
  idleRate: 2,
  idleSeconds: 30,
  repeat: 1,
  receivers: 4,
  scenarios: DEFAULT_SCENARIOS,
  signSeconds: 2,
  maxWaitSeconds: 300,
  ratioLimit: 1.2,
  minRatio: 0.5,
  idleP99LimitMs: 50,
  slowMs: 1000,
  cpuProf: '',
  latencyCsv: '',
  env: {},
};

const NUMERIC: Record<string, keyof BenchOptions> = {
  clients: 'clients',
  events: 'events',
  'warmup-events': 'warmupEvents',
  workers: 'workers',
  shards: 'shards',
  concurrency: 'concurrency',
  'endpoint-concurrency': 'endpointConcurrency',
  'timeout-ms': 'timeoutMs',
  'emit-concurrency': 'emitConcurrency',
  rate: 'rate',
  'idle-rate': 'idleRate',
  'idle-seconds': 'idleSeconds',
  repeat: 'repeat',
  receivers: 'receivers',
  'sign-seconds': 'signSeconds',
  'max-wait-s': 'maxWaitSeconds',
  'ratio-limit': 'ratioLimit',
  'min-ratio': 'minRatio',
  'idle-p99-limit-ms': 'idleP99LimitMs',
  'slow-ms': 'slowMs',
};

export const USAGE = `usage: npm run bench:fanout -- [--name=value ...]
  --clients=${DEFAULTS.clients}              healthy receiving clients (one endpoint each)
  --events=${DEFAULTS.events}              logout events, each targeting every client (all scenarios but idle)
  --warmup-events=${DEFAULTS.warmupEvents}        unmeasured events first (healthy clients only)
  --workers=${DEFAULTS.workers}               worker processes
  --shards=${DEFAULTS.shards}                DELIVERY_SHARDS (delivery queue shards) of every process
  --cluster                 run on a local 3-master Redis Cluster (scripts/redis-cluster.sh), stopped at the end
  --concurrency=${DEFAULTS.concurrency}          DELIVERY_CONCURRENCY of each worker (and of the plain-client ceiling)
  --endpoint-concurrency=${DEFAULTS.endpointConcurrency}  DELIVERY_ENDPOINT_CONCURRENCY
  --timeout-ms=${DEFAULTS.timeoutMs}         DELIVERY_TIMEOUT_MS
  --emit-concurrency=${DEFAULTS.emitConcurrency}      record() calls in flight while emitting
  --rate=${DEFAULTS.rate}                  events per second of every scenario but idle; 0 = burst
  --idle-rate=${DEFAULTS.idleRate}             the idle scenario's own steady pace, events per second
  --idle-seconds=${DEFAULTS.idleSeconds}         the idle scenario's duration (idle-rate × idle-seconds events)
  --repeat=${DEFAULTS.repeat}                runs of es256 and its ceiling; the ratio reported is their median
  --receivers=${DEFAULTS.receivers}             HTTP servers the endpoints are spread over
  --scenarios=${DEFAULT_SCENARIOS.join(',')}  any of ${SCENARIOS.join(', ')}
  --slow-ms=${DEFAULTS.slowMs}            answer delay of the slow-endpoint scenario's extra endpoint
  --sign-seconds=${DEFAULTS.signSeconds}          duration of each signatures-per-second measure (0 = skip)
  --max-wait-s=${DEFAULTS.maxWaitSeconds}          give up on a scenario after this long
  --min-ratio=${DEFAULTS.minRatio}           requirement: es256 deliveries/s ÷ plain-client ceiling at least this
  --ratio-limit=${DEFAULTS.ratioLimit}         requirement: dead-endpoint healthy p99 ÷ es256 p99 at most this
  --idle-p99-limit-ms=${DEFAULTS.idleP99LimitMs}    requirement: the idle scenario's p99 at most this (ms)
  --env=NAME=value          one more worker setting (repeatable), e.g. --env=BREAKER_COOLDOWN_MS=5000
  --cpu-prof=DIR            write V8 CPU profiles of the worker processes to DIR
  --latency-csv=DIR         write each scenario's deliveries (client, sub, accepted, receipt, latency) to DIR/<scenario>.csv

The last line printed is
  RESULT fanout_per_s=… raw_per_s=… ratio=… p50_ms=… p99_ms=… hang_p99_ratio=… idle_p99_ms=… rs256_per_s=…
         redis_cmds_per_delivery=… pg_xacts_per_delivery=… shards=… workers=… cluster=…
         worker_cpu_ms_per_delivery=… redis_cmds_per_delivery_max_shard=… pg_rows_per_delivery=… pg_bytes_per_delivery=…
(one line; na for a figure whose scenario did not run), after a PASS/FAIL line per requirement.
Exit code 1 when a requirement fails or a scenario does not complete.`;

export { UsageError };

export function parseOptions(argv: string[]): BenchOptions {
  const opts: BenchOptions = { ...DEFAULTS, scenarios: [...DEFAULTS.scenarios], env: {} };
  for (const arg of argv) {
    if (arg === '--cluster') {
      opts.cluster = true;
      continue;
    }
    const [name, value] = nameValue(arg, USAGE);
    if (name === 'env') {
      addEnv(opts.env, value);
      continue;
    }
    if (name === 'cpu-prof' || name === 'latency-csv') {
      opts[name === 'cpu-prof' ? 'cpuProf' : 'latencyCsv'] = value;
      continue;
    }
    if (name === 'scenarios') {
      const list = value.split(',').filter(Boolean);
      const unknown = list.filter((s) => !(SCENARIOS as readonly string[]).includes(s));
      if (unknown.length || !list.length) throw new UsageError(`--scenarios: choose from ${SCENARIOS.join(', ')}`);
      opts.scenarios = list as ScenarioName[];
      continue;
    }
    const key = NUMERIC[name];
    const n = Number(value);
    if (!key) throw new UsageError(`unknown option --${name}\n${USAGE}`);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
    (opts[key] as number) = n;
  }
  for (const k of [
    'clients',
    'events',
    'workers',
    'shards',
    'concurrency',
    'endpointConcurrency',
    'emitConcurrency',
    'receivers',
    'repeat',
  ] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new UsageError(`${k} must be a positive integer`);
  }
  if (opts.scenarios.some((n) => n.endsWith('-endpoint')) && !opts.scenarios.includes('es256')) {
    throw new UsageError('the dead-endpoint and slow-endpoint scenarios are compared with es256: run es256 too');
  }
  if (opts.repeat > 1 && !opts.scenarios.includes('es256'))
    throw new UsageError('--repeat repeats the es256 scenario: run es256 too');
  if (opts.scenarios.includes('idle') && idleEvents(opts) < 1) {
    throw new UsageError('the idle scenario needs --idle-rate × --idle-seconds of at least one event');
  }
  return opts;
}

/** Events of the idle scenario: its pace times its duration. */
export const idleEvents = (opts: BenchOptions) => Math.round(opts.idleRate * opts.idleSeconds);
