import { addEnv, nameValue, UsageError } from '../cli-args';
/** Command-line settings of the failure drills: `npm run bench:drills -- --drills=kill9 --clients=20`. */
const DRILLS = ['kill9', 'redis-wipe', 'pg-restart', 'redis-outage'] as const;
export type DrillName = (typeof DRILLS)[number];

export interface DrillOptions {
  drills: DrillName[];
  /** Receiving clients; every event targets all of them. */
  clients: number;
  /** Events of the burst drills (kill9, redis-wipe). */
  events: number;
  /** record() calls in flight during a burst. */
  emitConcurrency: number;
  /** SIGKILLs of the worker in the kill9 drill, spread evenly over the deliveries received. */
  kills: number;
  /** Events per second in the steady-pace drills (pg-restart, redis-outage). */
  rate: number;
  /** How long the pg-restart drill emits, when its fault starts, how long PostgreSQL stays down. */
  pgSeconds: number;
  pgFaultAt: number;
  pgDownSeconds: number;
  /** The same for the redis-outage drill. */
  redisSeconds: number;
  redisFaultAt: number;
  redisDownSeconds: number;
  /** DELIVERY_SWEEP_INTERVAL_SECONDS of the worker. */
  relayIntervalSeconds: number;
  /** DELIVERY_LEASE_SECONDS of the worker, when the code has that setting. */
  leaseSeconds: number;
  /** A drill that has not finished this long after its emission began fails with what it saw. */
  maxDrillSeconds: number;
  /** HTTP servers the endpoints are spread over. */
  receivers: number;
  /** Keep the worker and private-server logs in this directory; '' = a temporary one, removed at the end. */
  logs: string;
  /** More worker settings (--env=NAME=value, repeatable). */
  env: Record<string, string>;
}

const DEFAULTS: DrillOptions = {
  drills: [...DRILLS],
  clients: 50,
  events: 200,
  emitConcurrency: 4,
  kills: 5,
  rate: 10,
  pgSeconds: 20,
  pgFaultAt: 6,
  pgDownSeconds: 5,
  redisSeconds: 30,
  redisFaultAt: 8,
  redisDownSeconds: 10,
  relayIntervalSeconds: 2,
  leaseSeconds: 10,
  maxDrillSeconds: 300,
  receivers: 4,
  logs: '',
  env: {},
};

const NUMERIC: Record<string, keyof DrillOptions> = {
  clients: 'clients',
  events: 'events',
  'emit-concurrency': 'emitConcurrency',
  kills: 'kills',
  rate: 'rate',
  'pg-seconds': 'pgSeconds',
  'pg-fault-at': 'pgFaultAt',
  'pg-down-s': 'pgDownSeconds',
  'redis-seconds': 'redisSeconds',
  'redis-fault-at': 'redisFaultAt',
  'redis-down-s': 'redisDownSeconds',
  'relay-interval-s': 'relayIntervalSeconds',
  'lease-s': 'leaseSeconds',
  'max-drill-s': 'maxDrillSeconds',
  receivers: 'receivers',
};

export const USAGE = `usage: npm run bench:drills -- [--name=value ...]
Failure drills for the durable delivery pipeline; each one loses nothing or fails.
  --drills=${DEFAULTS.drills.join(',')}
                          which drills to run, in this order:
      kill9          a burst of --events × --clients deliveries; the worker is SIGKILLed --kills times
                     (each time another 1/(kills+1) of them was received) and restarted at once;
                     duplicates must stay within 1 %
      redis-wipe     the same burst; once a third was received every Redis key of the deployment's
                     prefix is deleted (SCAN + DEL)
      pg-restart     --rate events/s for --pg-seconds on a private PostgreSQL 15 cluster, which is
                     stopped (fast shutdown) at --pg-fault-at s and started again --pg-down-s later
      redis-outage   --rate events/s for --redis-seconds on a private redis-server, which is stopped
                     at --redis-fault-at s and started again, empty, --redis-down-s later
  --clients=${DEFAULTS.clients}              receiving clients (one loopback endpoint each), targeted by every event
  --events=${DEFAULTS.events}              events of the burst drills
  --emit-concurrency=${DEFAULTS.emitConcurrency}      record() calls in flight during a burst
  --kills=${DEFAULTS.kills}                 SIGKILLs in the kill9 drill
  --rate=${DEFAULTS.rate}                 events per second in the steady-pace drills
  --pg-seconds=${DEFAULTS.pgSeconds} --pg-fault-at=${DEFAULTS.pgFaultAt} --pg-down-s=${DEFAULTS.pgDownSeconds}
  --redis-seconds=${DEFAULTS.redisSeconds} --redis-fault-at=${DEFAULTS.redisFaultAt} --redis-down-s=${DEFAULTS.redisDownSeconds}
  --relay-interval-s=${DEFAULTS.relayIntervalSeconds}    DELIVERY_SWEEP_INTERVAL_SECONDS of the worker
  --lease-s=${DEFAULTS.leaseSeconds}              DELIVERY_LEASE_SECONDS of the worker (only if the code has that setting)
  --max-drill-s=${DEFAULTS.maxDrillSeconds}         a drill not finished this long after its emission began fails
  --receivers=${DEFAULTS.receivers}             HTTP servers the endpoints are spread over
  --logs=DIR                keep the worker and private-server logs in DIR (default: removed at the end)
  --env=NAME=value          one more worker setting (repeatable), e.g. --env=DELIVERY_CONCURRENCY=32
Exits 1 if a drill loses a delivery, kill9's duplicates exceed 1 %, or a drill cannot run.`;

export { UsageError };

export function parseOptions(argv: string[]): DrillOptions {
  const opts: DrillOptions = { ...DEFAULTS, drills: [...DEFAULTS.drills], env: {} };
  for (const arg of argv) {
    const [name, value] = nameValue(arg, USAGE);
    if (name === 'env') {
      addEnv(opts.env, value);
      continue;
    }
    if (name === 'logs') {
      opts.logs = value;
      continue;
    }
    if (name === 'drills') {
      const list = value.split(',').filter(Boolean);
      const unknown = list.filter((d) => !(DRILLS as readonly string[]).includes(d));
      if (unknown.length || !list.length) throw new UsageError(`--drills: choose from ${DRILLS.join(', ')}`);
      opts.drills = [...new Set(list)] as DrillName[];
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
    'emitConcurrency',
    'kills',
    'receivers',
    'relayIntervalSeconds',
    'leaseSeconds',
  ] as const) {
    if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new UsageError(`${k} must be a positive integer`);
  }
  for (const k of ['rate', 'pgSeconds', 'redisSeconds', 'maxDrillSeconds'] as const) {
    if (!(opts[k] > 0)) throw new UsageError(`${k} must be positive`);
  }
  if (opts.pgFaultAt >= opts.pgSeconds) throw new UsageError('--pg-fault-at must fall within --pg-seconds');
  if (opts.redisFaultAt >= opts.redisSeconds) throw new UsageError('--redis-fault-at must fall within --redis-seconds');
  return opts;
}
