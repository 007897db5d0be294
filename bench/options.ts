/** Command-line settings of the fan-out benchmark: `npm run bench:fanout -- --clients=100 --events=50`. */
export interface BenchOptions {
  /** Healthy receiving clients, each with its own back-channel URI. */
  clients: number;
  /** Logout events; each one targets every client. */
  events: number;
  /** Unmeasured events first, to healthy clients only (JIT, pools, connections). */
  warmupEvents: number;
  /** Worker processes (each runs DELIVERY_CONCURRENCY deliveries at once). */
  workers: number;
  concurrency: number;
  endpointConcurrency: number;
  timeoutMs: number;
  /** record() calls in flight at once while emitting. */
  emitConcurrency: number;
  /** Events per second; 0 = a burst (as fast as record() allows with emitConcurrency in flight). */
  rate: number;
  /** HTTP servers the receiving endpoints are spread over. */
  receivers: number;
  scenarios: ScenarioName[];
  /** Seconds each signing micro-measure runs. */
  signSeconds: number;
  /** Longest wait for one scenario's deliveries. */
  maxWaitSeconds: number;
  /** Largest accepted ratio of the healthy p99 with a dead endpoint to the p99 without. */
  ratioLimit: number;
  /** Answer delay of the slow-endpoint scenario's extra endpoint. */
  slowMs: number;
  /** Directory for V8 CPU profiles of the worker processes (node --cpu-prof); '' = none. */
  cpuProf: string;
  /** Directory for one CSV per scenario of every healthy delivery's accepted and receipt times; '' = none. */
  latencyCsv: string;
  /** More worker settings (--env=NAME=value, repeatable), e.g. BREAKER_COOLDOWN_MS. */
  env: Record<string, string>;
}

export const SCENARIOS = ['es256', 'dead-endpoint', 'rs256', 'slow-endpoint'] as const;
/** Run unless --scenarios says otherwise. */
export const DEFAULT_SCENARIOS: ScenarioName[] = ['es256', 'dead-endpoint', 'rs256'];
export type ScenarioName = (typeof SCENARIOS)[number];

const DEFAULTS: BenchOptions = {
  clients: 50,
  events: 200,
  warmupEvents: 10,
  workers: 1,
  concurrency: 64,
  endpointConcurrency: 8,
  timeoutMs: 2000,
  emitConcurrency: 4,
  rate: 0,
  receivers: 4,
  scenarios: DEFAULT_SCENARIOS,
  signSeconds: 2,
  maxWaitSeconds: 300,
  ratioLimit: 1.5,
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
  concurrency: 'concurrency',
  'endpoint-concurrency': 'endpointConcurrency',
  'timeout-ms': 'timeoutMs',
  'emit-concurrency': 'emitConcurrency',
  rate: 'rate',
  receivers: 'receivers',
  'sign-seconds': 'signSeconds',
  'max-wait-s': 'maxWaitSeconds',
  'ratio-limit': 'ratioLimit',
  'slow-ms': 'slowMs',
};

export const USAGE = `usage: npm run bench:fanout -- [--name=value ...]
  --clients=${DEFAULTS.clients}              healthy receiving clients (one endpoint each)
  --events=${DEFAULTS.events}              logout events, each targeting every client
  --warmup-events=${DEFAULTS.warmupEvents}        unmeasured events first (healthy clients only)
  --workers=${DEFAULTS.workers}               worker processes
  --concurrency=${DEFAULTS.concurrency}          DELIVERY_CONCURRENCY of each worker (and of the plain-client ceiling)
  --endpoint-concurrency=${DEFAULTS.endpointConcurrency}  DELIVERY_ENDPOINT_CONCURRENCY
  --timeout-ms=${DEFAULTS.timeoutMs}         DELIVERY_TIMEOUT_MS
  --emit-concurrency=${DEFAULTS.emitConcurrency}      record() calls in flight while emitting
  --rate=${DEFAULTS.rate}                  events per second; 0 = burst
  --receivers=${DEFAULTS.receivers}             HTTP servers the endpoints are spread over
  --scenarios=${DEFAULT_SCENARIOS.join(',')}  any of ${SCENARIOS.join(', ')}
  --slow-ms=${DEFAULTS.slowMs}            answer delay of the slow-endpoint scenario's extra endpoint
  --sign-seconds=${DEFAULTS.signSeconds}          duration of each signatures-per-second measure (0 = skip)
  --max-wait-s=${DEFAULTS.maxWaitSeconds}          give up on a scenario after this long
  --ratio-limit=${DEFAULTS.ratioLimit}         largest accepted dead-endpoint / es256 healthy p99 ratio
  --env=NAME=value          one more worker setting (repeatable), e.g. --env=BREAKER_COOLDOWN_MS=5000
  --cpu-prof=DIR            write V8 CPU profiles of the worker processes to DIR
  --latency-csv=DIR         write each scenario's deliveries (client, sub, accepted, receipt, latency) to DIR/<scenario>.csv`;

/** A bad command line: printed without a stack. */
export class UsageError extends Error {}

export function parseOptions(argv: string[]): BenchOptions {
  const opts: BenchOptions = { ...DEFAULTS, scenarios: [...DEFAULTS.scenarios], env: {} };
  for (const arg of argv) {
    const m = /^--([a-z0-9-]+)=(.*)$/.exec(arg);
    if (!m) throw new UsageError(`unrecognised argument ${arg}\n${USAGE}`);
    const [, name, value] = m;
    if (name === 'env') {
      const m2 = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value);
      if (!m2) throw new UsageError('--env takes NAME=value');
      opts.env[m2[1]] = m2[2];
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
    'concurrency',
    'endpointConcurrency',
    'emitConcurrency',
    'receivers',
  ] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new UsageError(`${k} must be a positive integer`);
  }
  if (opts.scenarios.some((n) => n.endsWith('-endpoint')) && !opts.scenarios.includes('es256')) {
    throw new UsageError('the dead-endpoint and slow-endpoint scenarios are compared with es256: run es256 too');
  }
  return opts;
}
