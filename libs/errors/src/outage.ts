import { Logger } from '@nestjs/common';

/** The stores the coordinator cannot answer without. */
export type Dependency = 'postgres' | 'redis';

/**
 * A store's check, owned by the library that owns the store (libs/database for PostgreSQL,
 * libs/queue for Redis): `/health/ready` runs it, and the indicator registers it with `outages`,
 * which probes the store with it while the store is down.
 */
export interface StoreIndicator {
  readonly dependency: Dependency;
  check(): Promise<unknown>;
}

/** What a 503 tells the client to wait before trying again (the stores reconnect within seconds). */
export const RETRY_AFTER_SECONDS = 5;

/** How often a store known to be down is probed until it answers again. */
const PROBE_INTERVAL_MS = 1000;
/** A probe that does not answer within this is a failed probe. */
const PROBE_TIMEOUT_MS = 1500;

/** Thrown where the code itself knows a store is unavailable (an enqueue that timed out...). */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: Dependency,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyUnavailableError';
  }
}

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'ESOCKETTIMEDOUT',
]);

/**
 * SQLSTATEs that mean "the server cannot serve this connection", not "this statement is wrong":
 * class 08 (connection exception), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
 * cannot_connect_now (starting up, recovery), 53300 too_many_connections.
 */
const PG_STATES = /^(08...|57P0[123]|53300)$/;

/** Messages of pg and pg-pool for a connection that is gone or could not be had. */
const PG_MESSAGES = [
  /^Connection terminated/, // "...unexpectedly", "...due to connection timeout"
  /timeout exceeded when trying to connect/, // pg-pool connectionTimeoutMillis
  /is not queryable/, // a client whose connection failed
  /^Query read timeout/,
  /the database system is (starting up|shutting down|in recovery mode)/,
];

/** Messages of ioredis and BullMQ for a connection that is gone. */
const REDIS_MESSAGES = [
  /^Connection is closed\.?$/,
  /enableOfflineQueue options is false/, // "Stream isn't writeable and enableOfflineQueue options is false"
  /^Reached the max retries per request limit/, // MaxRetriesPerRequestError
  /^Command timed out/, // commandTimeout
  /^Connection is in subscriber mode/,
  /^Redis is loading the dataset in memory/,
  /^LOADING /,
  /^READONLY /,
];

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  port?: unknown;
  driverError?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The errors an error wraps: TypeORM's `driverError`, `cause`, and an AggregateError's `errors`. */
function* chain(err: unknown, depth = 0): Generator<ErrorLike> {
  if (!err || typeof err !== 'object' || depth > 4) return;
  const e = err as ErrorLike;
  yield e;
  yield* chain(e.driverError, depth + 1);
  yield* chain(e.cause, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors.slice(0, 4)) yield* chain(inner, depth + 1);
}

/**
 * Which store `err` says is unreachable, or null when it is another kind of error (a bad
 * statement, a constraint, a bug). Socket-level errors (ECONNREFUSED, ETIMEDOUT...) are
 * attributed by the port they name, against the stores the app registered with `outages`.
 */
export function classifyOutage(err: unknown): Dependency | null {
  for (const e of chain(err)) {
    if (e instanceof DependencyUnavailableError) return e.dependency;
    const message = typeof e.message === 'string' ? e.message : '';
    const code = typeof e.code === 'string' ? e.code : '';
    if (e.name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((r) => r.test(message))) return 'redis';
    if (PG_STATES.test(code) || PG_MESSAGES.some((r) => r.test(message))) return 'postgres';
    if (NET_CODES.has(code)) {
      const byPort = outages.dependencyAt(Number(e.port));
      if (byPort) return byPort;
    }
  }
  return null;
}

interface Watched {
  down: boolean;
  since: number;
  reason: string;
  probes: Set<() => Promise<unknown>>;
  ports: Set<number>;
  timer?: NodeJS.Timeout;
  /** The probe round in flight, and when it started. */
  probing?: Promise<boolean>;
  probingSince?: number;
}

function describe(err: unknown): string {
  const e = err as ErrorLike | undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : '';
  return `${message}${code}`.replace(/\s+/g, ' ').slice(0, 200);
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([
    p,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref()),
  ]);
}

/**
 * What this process knows about its stores. A store is marked down when a failure is reported
 * and a probe confirms it (a stale error of a connection that was already replaced changes
 * nothing) or a health check fails, and up again when every probe of the process answers (each
 * app's client has reconnected); each transition is logged
 * once: one line per outage and one per recovery, per store and per process, however many
 * requests, jobs and reconnect attempts fail in between. While a store is down it is probed
 * every second, so recovery is noticed without any traffic.
 */
export class DependencyTracker {
  private readonly logger = new Logger('Outage');
  private readonly watched = new Map<Dependency, Watched>();

  private entry(dep: Dependency): Watched {
    let w = this.watched.get(dep);
    if (!w) this.watched.set(dep, (w = { down: false, since: 0, reason: '', probes: new Set(), ports: new Set() }));
    return w;
  }

  /** Registers how to check `dep` (and the port it listens on); returns the function that unregisters it. */
  register(dep: Dependency, probe: () => Promise<unknown>, port?: number): () => void {
    const w = this.entry(dep);
    w.probes.add(probe);
    if (port) w.ports.add(port);
    return () => {
      w.probes.delete(probe);
      if (port) w.ports.delete(port);
      if (!w.probes.size) {
        clearInterval(w.timer);
        w.timer = undefined;
      }
    };
  }

  dependencyAt(port: number): Dependency | null {
    for (const [dep, w] of this.watched) if (w.ports.has(port)) return dep;
    return null;
  }

  isDown(dep: Dependency): boolean {
    return this.watched.get(dep)?.down ?? false;
  }

  /** Something failed because `dep` looked unreachable: confirmed by a probe before it counts. */
  reportFailure(dep: Dependency, err: unknown): void {
    const w = this.entry(dep);
    if (w.down) return;
    if (!w.probes.size) return this.markDown(dep, err);
    void this.probe(dep).then((ok) => ok || this.markDown(dep, err));
  }

  /**
   * A check of `dep` succeeded or failed (health checks report here). A failure counts once a
   * probe round confirms it, like any reported failure (one slow answer on a loaded machine, just
   * after a recovery, is not a new outage); a success ends an outage only when every probe of the
   * process answers (a client that has not reconnected yet would otherwise make the outage end
   * and start again).
   */
  observe(dep: Dependency, ok: boolean, err?: unknown): void {
    if (!ok) return this.reportFailure(dep, err);
    if (this.isDown(dep)) this.probeUp(dep);
  }

  private markDown(dep: Dependency, err: unknown): void {
    const w = this.entry(dep);
    if (w.down) return;
    w.down = true;
    w.since = Date.now();
    w.reason = describe(err);
    this.logger.warn(`${dep} is unreachable: ${w.reason}; answering 503 for what needs it until it is back`);
    if (w.probes.size && !w.timer) {
      w.timer = setInterval(() => this.probeUp(dep), PROBE_INTERVAL_MS);
      w.timer.unref();
    }
  }

  private markUp(dep: Dependency): void {
    const w = this.watched.get(dep);
    if (!w?.down) return;
    w.down = false;
    clearInterval(w.timer);
    w.timer = undefined;
    const seconds = ((Date.now() - w.since) / 1000).toFixed(1);
    this.logger.log(`${dep} is reachable again after ${seconds} s (unreachable since: ${w.reason})`);
  }

  /** Ends the outage when a probe round that started after it began finds every probe answering. */
  private probeUp(dep: Dependency): void {
    const w = this.entry(dep);
    const since = w.since;
    const startedAt = w.probing ? w.probingSince! : Date.now();
    void this.probe(dep).then((ok) => ok && w.down && w.since === since && startedAt >= since && this.markUp(dep));
  }

  /** True when every registered probe of `dep` answers in time; one probe round at a time. */
  private probe(dep: Dependency): Promise<boolean> {
    const w = this.entry(dep);
    if (!w.probing) w.probingSince = Date.now();
    w.probing ??= (async () => {
      const results = await Promise.allSettled([...w.probes].map((p) => withTimeout(p(), PROBE_TIMEOUT_MS)));
      return results.every((r) => r.status === 'fulfilled');
    })().finally(() => (w.probing = undefined));
    return w.probing;
  }
}

/** The process's tracker: every app and library of one process share it. */
export const outages = new DependencyTracker();

/** What a 503 says about `dependency`. */
export function outageMessage(dependency: Dependency): string {
  const name = dependency === 'postgres' ? 'PostgreSQL' : 'Redis';
  return `the service is temporarily unavailable (${name} cannot be reached); retry in a few seconds`;
}

/** The 503 answer for an outage error (reported to the tracker), or null for any other error. */
export function outageBody(err: unknown): { error: 'unavailable'; message: string; dependency: Dependency } | null {
  const dependency = classifyOutage(err);
  if (!dependency) return null;
  outages.reportFailure(dependency, err);
  return { error: 'unavailable', message: outageMessage(dependency), dependency };
}

/**
 * For background work (timers, jobs, batches): an outage error goes to the tracker, which logs the
 * outage once; any other error is logged by `log`, as before.
 */
export function unlessOutage(err: unknown, log: () => void): void {
  const dependency = classifyOutage(err);
  if (dependency) outages.reportFailure(dependency, err);
  else log();
}
