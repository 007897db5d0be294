import type Redis from 'ioredis';

export interface EndpointGuardSettings {
  /** Redis key prefix (the BullMQ prefix), so test runs and deployments do not share state. */
  prefix: string;
  /** Sends to one endpoint in flight at once, across every worker. */
  concurrency: number;
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** First open period; doubles while probes fail, up to 32x. */
  cooldownMs: number;
}

export type Admission =
  | { admitted: true; release: () => Promise<void> }
  | { admitted: false; reason: 'breaker_open' | 'endpoint_busy'; retryAt: number };

/** How soon a send held back by the endpoint limit looks again (plus jitter added by the caller). */
const BUSY_RECHECK_MS = 100;
/** How soon sends held back by a half-open breaker look again (the probe's answer usually arrives sooner). */
const PROBE_RECHECK_MS = 1000;

export type BreakerState = 'closed' | 'open' | 'half_open';

// KEYS[1] breaker hash, KEYS[2] slot zset. ARGV: now, slot lease ms, limit, member, probe lease ms,
// how soon to look again while a probe is in flight.
// The breaker is checked first: while open nothing is sent; once the open period is over one
// probe at a time goes through (half-open). Then a slot is taken if one is free.
const ADMIT = `
local now = tonumber(ARGV[1])
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local probe = 0
if openUntil > 0 then
  if now < openUntil then return {0, 'breaker_open', openUntil} end
  local probeUntil = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
  if now < probeUntil then return {0, 'breaker_open', math.min(probeUntil, now + tonumber(ARGV[6]))} end
  probe = 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {0, 'endpoint_busy', 0} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[4])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
if probe == 1 then redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[5])) end
return {1, 'ok', 0}
`;

// KEYS[1] breaker hash. ARGV: now, 1 = failure / 0 = success, threshold, base cooldown ms.
const RECORD = `
local now = tonumber(ARGV[1])
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
  return 0
end
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local base = tonumber(ARGV[4])
if openUntil > 0 then
  if now < openUntil then return 1 end
  local cooldown = math.min(tonumber(redis.call('HGET', KEYS[1], 'cooldown') or ARGV[4]) * 2, base * 32)
  redis.call('HSET', KEYS[1], 'cooldown', cooldown, 'open_until', now + cooldown, 'probe_until', 0)
  redis.call('PEXPIRE', KEYS[1], 86400000)
  return 1
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], 86400000)
if failures >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'cooldown', base, 'open_until', now + base, 'probe_until', 0, 'opened_at', now)
  return 1
end
return 0
`;

type Arg = string | number;
interface GuardScripts {
  sloEndpointAdmit(...args: Arg[]): Promise<unknown>;
  sloEndpointRecord(...args: Arg[]): Promise<unknown>;
}

/**
 * Endpoint isolation shared by every worker through Redis: a per-endpoint concurrency limit, so a
 * slow endpoint holds at most a few workers, and a circuit breaker that stops sending to an
 * endpoint that keeps failing, then probes it one request at a time.
 */
export class EndpointGuard {
  private readonly scripts: GuardScripts;

  constructor(
    private readonly redis: Redis,
    private readonly s: EndpointGuardSettings,
  ) {
    // Registered commands send the script's hash (EVALSHA), not its text, on every call.
    redis.defineCommand('sloEndpointAdmit', { numberOfKeys: 2, lua: ADMIT });
    redis.defineCommand('sloEndpointRecord', { numberOfKeys: 1, lua: RECORD });
    this.scripts = redis as unknown as GuardScripts;
  }

  private breakerKey(clientId: string): string {
    return `${this.s.prefix}:endpoint:${clientId}:breaker`;
  }

  private slotsKey(clientId: string): string {
    return `${this.s.prefix}:endpoint:${clientId}:slots`;
  }

  /** Takes a send slot for `member` (the delivery id) for at most `leaseMs`, unless the breaker or the limit says wait. */
  async admit(clientId: string, member: string, leaseMs: number): Promise<Admission> {
    const now = Date.now();
    const [ok, reason, at] = (await this.scripts.sloEndpointAdmit(
      this.breakerKey(clientId),
      this.slotsKey(clientId),
      now,
      leaseMs,
      this.s.concurrency,
      member,
      leaseMs,
      PROBE_RECHECK_MS,
    )) as [number, string, number];
    if (ok === 1) {
      return { admitted: true, release: async () => void (await this.redis.zrem(this.slotsKey(clientId), member)) };
    }
    if (reason === 'endpoint_busy') {
      // Slots free up when sends finish; look again shortly rather than waiting for a lease to lapse.
      return { admitted: false, reason: 'endpoint_busy', retryAt: now + BUSY_RECHECK_MS };
    }
    return { admitted: false, reason: 'breaker_open', retryAt: Math.max(at, now) };
  }

  /** Feeds a send's result to the breaker: a failure that suggests the endpoint is down, or a sign of life. */
  async record(clientId: string, endpointFailed: boolean): Promise<void> {
    await this.scripts.sloEndpointRecord(
      this.breakerKey(clientId),
      Date.now(),
      endpointFailed ? 1 : 0,
      this.s.failureThreshold,
      this.s.cooldownMs,
    );
  }

  async breakerState(clientId: string): Promise<{ state: BreakerState; failures: number; openUntil: Date | null }> {
    const h = await this.redis.hgetall(this.breakerKey(clientId));
    const openUntil = Number(h.open_until ?? 0);
    const failures = Number(h.failures ?? 0);
    if (!openUntil) return { state: 'closed', failures, openUntil: null };
    return { state: Date.now() < openUntil ? 'open' : 'half_open', failures, openUntil: new Date(openUntil) };
  }
}
