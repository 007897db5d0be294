import type { RedisClient } from '@slo/queue';

export interface EndpointGuardSettings {
  /** Redis key prefix (QUEUE_PREFIX), so test runs and deployments do not share state. */
  prefix: string;
  /**
   * On a Redis Cluster: each endpoint's keys carry its client id as a hash tag
   * (`<prefix>:endpoint:{<client_id>}:breaker`) so they share a slot, and the breaker script
   * updates the deployment's failing list in a second command (another slot). On one Redis the
   * names and the single script are as they always were.
   */
  cluster: boolean;
  /** Sends to one endpoint in flight at once, across every worker. */
  concurrency: number;
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** First open period; doubles while probes fail, up to 32x. */
  cooldownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half_open';

/** A probe may be sent through a half-open breaker: 'ok'; or not yet, with when to look again. */
export type ProbeAnswer = { ok: true } | { ok: false; retryAt: number };

// KEYS[1] slot zset. ARGV: now, lease ms, limit, owner, want.
// A worker holds a block of the endpoint's slots (members owner#0 … owner#k-1, scored by lease
// expiry): renews the ones it has, takes free ones up to `want`, gives back any beyond `want`.
// Returns how many it holds now.
const SLOTS = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[3])
local want = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = 0
for i = 0, limit - 1 do
  local member = ARGV[4] .. '#' .. i
  local mine = redis.call('ZSCORE', KEYS[1], member)
  if i < want then
    if mine then
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)
      held = held + 1
    elseif redis.call('ZCARD', KEYS[1]) < limit then
      redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)
      held = held + 1
    end
  elseif mine then
    redis.call('ZREM', KEYS[1], member)
  end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return held
`;

// KEYS[1] breaker hash. ARGV: now, probe lease ms, how soon to look again while a probe is in flight.
// While open nothing is sent; once the open period is over one probe at a time goes through.
const PROBE = `
local now = tonumber(ARGV[1])
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if openUntil == 0 then return {1, 0} end
if now < openUntil then return {0, openUntil} end
local probeUntil = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if now < probeUntil then return {0, math.min(probeUntil, now + tonumber(ARGV[3]))} end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[2]))
return {1, 0}
`;

// KEYS[1] breaker hash, KEYS[2] (one Redis only) the deployment's hash of failing endpoints
// (client id → open_until, 0 while only failures are counted). ARGV: now, 1 = failure / 0 =
// success, threshold, base cooldown ms, client id. Returns {open until (0 when closed), the
// endpoint's new value in the failing hash (-1: remove it)}; on a cluster the caller writes that
// value, since the failing hash lives in another slot. Workers read the failing hash a few times a
// second instead of asking per send.
const RECORD = `
local function mark(openUntil, failing)
  if #KEYS == 2 then
    if failing < 0 then redis.call('HDEL', KEYS[2], ARGV[5]) else redis.call('HSET', KEYS[2], ARGV[5], failing) end
  end
  return {openUntil, failing}
end
local now = tonumber(ARGV[1])
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
  return mark(0, -1)
end
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
local base = tonumber(ARGV[4])
if openUntil > 0 then
  if now < openUntil then return {openUntil, -2} end
  local cooldown = math.min(tonumber(redis.call('HGET', KEYS[1], 'cooldown') or ARGV[4]) * 2, base * 32)
  redis.call('HSET', KEYS[1], 'cooldown', cooldown, 'open_until', now + cooldown, 'probe_until', 0)
  redis.call('PEXPIRE', KEYS[1], 86400000)
  return mark(now + cooldown, now + cooldown)
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], 86400000)
if failures >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'cooldown', base, 'open_until', now + base, 'probe_until', 0, 'opened_at', now)
  return mark(now + base, now + base)
end
return mark(0, 0)
`;

/** The failing-hash value that means "leave it as it is" (the breaker was already open). */
const UNCHANGED = -2;

type Arg = string | number;
interface GuardScripts {
  sloEndpointSlots(...args: Arg[]): Promise<unknown>;
  sloEndpointProbe(...args: Arg[]): Promise<unknown>;
  sloEndpointRecord(...args: Arg[]): Promise<unknown>;
}

/**
 * Endpoint isolation shared by every worker through Redis: the per-endpoint concurrency limit as a
 * set of leased slots that each worker takes a block of (EndpointGate then hands them out in
 * process, with no Redis call per send), and a circuit breaker that stops sending to an endpoint
 * that keeps failing, then probes it one request at a time. Only failing endpoints cost a Redis
 * call per send.
 */
export class EndpointGuard {
  private readonly scripts: GuardScripts;

  constructor(
    private readonly redis: RedisClient,
    readonly settings: EndpointGuardSettings,
  ) {
    // Registered commands send the script's hash (EVALSHA), not its text, on every call.
    redis.defineCommand('sloEndpointSlots', { numberOfKeys: 1, lua: SLOTS });
    redis.defineCommand('sloEndpointProbe', { numberOfKeys: 1, lua: PROBE });
    // Called with its number of keys first: 2 on one Redis, 1 on a cluster.
    redis.defineCommand('sloEndpointRecord', { lua: RECORD });
    this.scripts = redis as unknown as GuardScripts;
  }

  /** `<prefix>:endpoint:<client_id>` (one Redis) or `<prefix>:endpoint:{<client_id>}` (cluster: one slot per endpoint). */
  private endpointKey(clientId: string): string {
    return `${this.settings.prefix}:endpoint:${this.settings.cluster ? `{${clientId}}` : clientId}`;
  }

  private breakerKey(clientId: string): string {
    return `${this.endpointKey(clientId)}:breaker`;
  }

  private slotsKey(clientId: string): string {
    return `${this.endpointKey(clientId)}:slots`;
  }

  private get failingKey(): string {
    return `${this.settings.prefix}:endpoints:failing`;
  }

  private get workersKey(): string {
    return `${this.settings.prefix}:delivery-workers`;
  }

  /** Holds (renews, takes, gives back) up to `want` of the endpoint's slots for `owner`; returns how many it holds. */
  async holdSlots(clientId: string, owner: string, want: number, leaseMs: number): Promise<number> {
    return Number(
      await this.scripts.sloEndpointSlots(this.slotsKey(clientId), Date.now(), leaseMs, this.settings.concurrency, owner, want),
    );
  }

  /** May a probe go through the half-open breaker now? (Takes the probe when it may.) */
  async probe(clientId: string, probeLeaseMs: number, recheckMs: number): Promise<ProbeAnswer> {
    const [ok, at] = (await this.scripts.sloEndpointProbe(this.breakerKey(clientId), Date.now(), probeLeaseMs, recheckMs)) as [
      number,
      number,
    ];
    return ok === 1 ? { ok: true } : { ok: false, retryAt: Number(at) };
  }

  /** Feeds a send's result to the breaker; returns until when it is open (0 when closed). */
  async record(clientId: string, endpointFailed: boolean): Promise<number> {
    const keys = this.settings.cluster ? [this.breakerKey(clientId)] : [this.breakerKey(clientId), this.failingKey];
    const argv = [Date.now(), endpointFailed ? 1 : 0, this.settings.failureThreshold, this.settings.cooldownMs, clientId];
    const [openUntil, failing] = (await this.scripts.sloEndpointRecord(keys.length, ...keys, ...argv)) as [number, number];
    if (this.settings.cluster && failing !== UNCHANGED) {
      if (failing < 0) await this.redis.hdel(this.failingKey, clientId);
      else await this.redis.hset(this.failingKey, clientId, failing);
    }
    return Number(openUntil);
  }

  /** Endpoints that failed recently: client id → open_until (0 while the breaker is still closed). */
  async failing(): Promise<Map<string, number>> {
    const h = await this.redis.hgetall(this.failingKey);
    return new Map(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }

  /** Announces a live delivery worker (for its share of each endpoint's limit); returns how many are live. */
  async heartbeat(owner: string, ttlMs: number): Promise<number> {
    const now = Date.now();
    const [, , [, count]] = (await this.redis
      .multi()
      .zadd(this.workersKey, now + ttlMs, owner)
      .zremrangebyscore(this.workersKey, '-inf', now)
      .zcard(this.workersKey)
      .exec()) as [unknown, unknown, [Error | null, number]];
    return Math.max(1, Number(count));
  }

  async leave(owner: string): Promise<void> {
    await this.redis.zrem(this.workersKey, owner);
  }

  async breakerState(clientId: string): Promise<{ state: BreakerState; failures: number; openUntil: Date | null }> {
    const h = await this.redis.hgetall(this.breakerKey(clientId));
    const openUntil = Number(h.open_until ?? 0);
    const failures = Number(h.failures ?? 0);
    if (!openUntil) return { state: 'closed', failures, openUntil: null };
    return { state: Date.now() < openUntil ? 'open' : 'half_open', failures, openUntil: new Date(openUntil) };
  }
}
