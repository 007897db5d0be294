import { int, list, type Parsed } from '../parsers';
import { DELIVERY_MAX_ATTEMPTS_RANGE, DELIVERY_TIMEOUT_RANGE_MS } from '../limits';
import type { Setting } from '../setting';

/** Most delivery queue shards (DELIVERY_SHARDS). */
const MAX_DELIVERY_SHARDS = 64;

/** A non-empty list of distinct shard numbers (each below DELIVERY_SHARDS: a cross-check in rules.ts). */
function shardList(raw: string): Parsed<number[]> {
  const parsed = list(int(0, MAX_DELIVERY_SHARDS - 1), { min: 1 })(raw);
  if (!parsed.ok) return parsed;
  const twice = parsed.value.find((n, i) => parsed.value.indexOf(n) !== i);
  return twice === undefined ? parsed : { ok: false, error: `names shard ${twice} twice` };
}

/** Back-channel delivery: timeouts, retries, concurrency, breaker, the sweep, endpoint health, retention, queue shards. */
export const DELIVERY_SETTINGS = [
  {
    env: 'DELIVERY_TIMEOUT_MS',
    path: 'delivery.timeoutMs',
    description: 'per-request timeout of a back-channel delivery (clients may override)',
    default: '5000',
    parse: int(DELIVERY_TIMEOUT_RANGE_MS.min, DELIVERY_TIMEOUT_RANGE_MS.max),
  },
  {
    env: 'DELIVERY_MAX_ATTEMPTS',
    path: 'delivery.maxAttempts',
    description: 'scheduled attempts before a delivery is dead (clients may override)',
    default: '20',
    parse: int(DELIVERY_MAX_ATTEMPTS_RANGE.min, DELIVERY_MAX_ATTEMPTS_RANGE.max),
  },
  {
    env: 'DELIVERY_BACKOFF_BASE_MS',
    path: 'delivery.backoffBaseMs',
    description: 'ceiling of the first retry delay; each retry doubles it (full jitter: the delay is random below the ceiling)',
    default: '15000',
    parse: int(10, 3600000),
  },
  {
    env: 'DELIVERY_BACKOFF_MAX_MS',
    path: 'delivery.backoffMaxMs',
    description: 'largest retry delay ceiling (the default schedule spans about a day over 20 attempts)',
    default: '14400000',
    parse: int(10, 86400000),
  },
  {
    env: 'DELIVERY_RETRY_AFTER_MAX_MS',
    path: 'delivery.retryAfterMaxMs',
    description: 'longest wait a Retry-After header of a receiver is honoured with (shorter waits than 1 s become 1 s)',
    default: '3600000',
    parse: int(1000, 86400000),
  },
  {
    env: 'DELIVERY_CONCURRENCY',
    path: 'delivery.concurrency',
    description: 'deliveries one worker process sends at once',
    default: '64',
    parse: int(1, 1000),
  },
  {
    env: 'DELIVERY_ENDPOINT_CONCURRENCY',
    path: 'delivery.endpointConcurrency',
    description: 'deliveries to one endpoint in flight at once, across all workers',
    default: '8',
    parse: int(1, 1000),
  },
  {
    env: 'BREAKER_FAILURE_THRESHOLD',
    path: 'delivery.breakerThreshold',
    description: 'consecutive failed sends to an endpoint that open its circuit breaker',
    default: '5',
    parse: int(1, 1000),
  },
  {
    env: 'BREAKER_COOLDOWN_MS',
    path: 'delivery.breakerCooldownMs',
    description: 'how long an open breaker pauses sends before one probe; doubles while probes fail (up to 32x)',
    default: '30000',
    parse: int(10, 3600000),
  },
  {
    env: 'DELIVERY_SWEEP_INTERVAL_SECONDS',
    path: 'delivery.sweepIntervalSeconds',
    description:
      'how often the worker re-enqueues committed deliveries that are missing from the queue (the outbox relay), disables endpoints that kept failing (ENDPOINT_AUTO_DISABLE_AFTER_SECONDS) and checks that its schedules are still in Redis (this often, at most a minute apart)',
    default: '15',
    parse: int(1, 3600),
  },
  {
    env: 'DELIVERY_LEASE_SECONDS',
    path: 'delivery.leaseSeconds',
    description:
      "how long a worker's claim on a delivery lasts; a worker that died mid-send leaves its claims to others after this (at least the longest delivery timeout plus the time a send may wait for its endpoint)",
    default: '90',
    parse: int(5, 3600),
  },
  {
    env: 'ENDPOINT_AUTO_DISABLE_AFTER_SECONDS',
    path: 'endpoints.autoDisableAfterSeconds',
    description:
      'disable a back-channel endpoint that delivered nothing for this long while its deliveries kept failing; 0 never',
    default: '86400',
    parse: int(0, 30 * 86400),
  },
  {
    env: 'DELIVERY_RETENTION_DAYS',
    path: 'delivery.retentionDays',
    description:
      'months of deliveries (with their attempts) created wholly more than this many days ago, none of them open, are dropped by the worker (every PURGE_INTERVAL_SECONDS)',
    default: '30',
    parse: int(1, 3650),
  },
  {
    env: 'DELIVERY_SHARDS',
    path: 'delivery.shards',
    description:
      'delivery queues the work is spread over (an event goes to the shard its id hashes to, its retries follow it); every api, identity and worker process must use the same number; 1 is the single queue of earlier versions',
    default: '1',
    parse: int(1, MAX_DELIVERY_SHARDS),
  },
  {
    env: 'DELIVERY_SHARDS_CONSUMED',
    path: 'delivery.shardsConsumed',
    description:
      'the delivery shards this worker process runs jobs from, comma-separated numbers from 0 to DELIVERY_SHARDS - 1 (unset: every shard)',
    optional: true,
    parse: shardList,
  },
] as const satisfies readonly Setting[];
