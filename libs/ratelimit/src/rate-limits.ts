import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { REDIS, type RedisClient } from '@slo/queue';
import { createHash } from 'node:crypto';
// rate-limiter-flexible: atomic Redis counters (one Lua script per consume) shared by every instance,
// with an in-memory insurance limiter for Redis outages. Well kept and widely used; its documented
// login-protection pattern is what LoginLimiter follows. Chosen over hand-written INCR/EXPIRE counters.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { clientIpKey } from './client-ip';

/** A refusal: how long to wait (seconds, for Retry-After) and what to tell the caller. */
export class RateLimited {
  constructor(
    readonly retryAfterSeconds: number,
    readonly message: string,
  ) {}
}

const secondsOf = (res: RateLimiterRes) => Math.max(1, Math.ceil(res.msBeforeNext / 1000));

/** "42 seconds", "5 minutes", "2 hours": for messages people read. */
function describeWait(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (seconds < 120) return unit(seconds, 'second');
  if (seconds < 7200) return unit(Math.ceil(seconds / 60), 'minute');
  return unit(Math.ceil(seconds / 3600), 'hour');
}

/** Keys never carry e-mail addresses or client ids in clear, and stay short whatever was sent. */
const digest = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/**
 * Notes (at debug level, once each) when the limits fall back to process memory (Redis
 * unreachable) and when they are shared again; the outage itself is the one warning line of the
 * process's outage tracker (@slo/errors outages), so an outage is not logged twice.
 */
class StoreWatch {
  private degraded = false;
  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {}

  note(): void {
    const ready = this.redis.status === 'ready';
    if (!ready && !this.degraded) {
      this.degraded = true;
      this.logger.debug('rate limits: Redis is unreachable; counting in each process until it is back');
    } else if (ready && this.degraded) {
      this.degraded = false;
      this.logger.debug('rate limits: Redis is back; limits are shared by every instance again');
    }
  }
}

type LimiterFactory = (name: string, opts: { points: number; duration: number; blockDuration?: number }) => RateLimiterRedis;

/** One attempt reserved by LoginLimiter.begin: report how it ended. */
export interface LoginAttempt {
  /** The password was right: the account's failures from this IP are forgotten. */
  succeeded(): Promise<void>;
  /** The password was wrong: a refusal when this failure used up a limit (the account or IP is locked now). */
  failed(): Promise<RateLimited | null>;
}

/**
 * Login protection after rate-limiter-flexible's documented pattern: consecutive failures per
 * account and client IP (so an attacker's IP never locks the real user out elsewhere), and slow
 * brute force per client IP per day. Lockouts grow: each one within the failure window doubles.
 *
 * Each attempt is counted BEFORE the password is checked, so a burst of parallel attempts is cut at
 * the limit and the refused ones never reach argon2: a real user's sign-in stays fast during an attack.
 */
export class LoginLimiter {
  private readonly consecutive: RateLimiterRedis;
  private readonly lockouts: RateLimiterRedis;
  private readonly perIpPerDay: RateLimiterRedis;

  constructor(
    make: LimiterFactory,
    private readonly cfg: AppConfig['rateLimits'],
    private readonly watch: StoreWatch,
  ) {
    const window = cfg.loginFailureWindowSeconds;
    this.consecutive = make('login-account-ip', { points: cfg.loginMaxConsecutiveFailures, duration: window });
    this.lockouts = make('login-lockouts', { points: 1_000_000, duration: window });
    this.perIpPerDay = make('login-ip-day', { points: cfg.loginMaxFailuresPerIpPerDay, duration: 86400, blockDuration: 86400 });
  }

  /** Reserves one sign-in attempt, or refuses it (the account is locked from this IP, or the IP is). */
  async begin(account: string, ip: string | undefined): Promise<LoginAttempt | RateLimited> {
    this.watch.note();
    const ipKey = clientIpKey(ip);
    const accountKey = `${digest(account)}:${ipKey}`;
    // The account first: attempts on a locked account do not use up the IP's daily budget.
    const account_ = await this.take(this.consecutive, accountKey);
    if (account_ instanceof RateLimited) return account_;
    const ip_ = await this.take(this.perIpPerDay, ipKey);
    if (ip_ instanceof RateLimited) {
      await this.consecutive.reward(accountKey);
      return ip_;
    }
    return {
      succeeded: async () => {
        // A successful sign-in is not a failure: reset the pair, give the IP its point back.
        await Promise.all([
          this.consecutive.delete(accountKey),
          this.lockouts.delete(accountKey),
          this.perIpPerDay.reward(ipKey),
        ]);
      },
      failed: async () => {
        if (account_.remainingPoints === 0) {
          const { consumedPoints: nth } = await this.lockouts.penalty(accountKey);
          const seconds = Math.min(this.cfg.loginLockoutSeconds * 2 ** Math.min(nth - 1, 30), this.cfg.loginLockoutMaxSeconds);
          await this.consecutive.block(accountKey, seconds);
          return this.refusal(seconds);
        }
        if (ip_.remainingPoints === 0) return this.refusal(secondsOf(await this.perIpPerDay.block(ipKey, 86400)));
        return null;
      },
    };
  }

  /** Consumes one point: the limiter's answer, or a refusal when the key is over its limit. */
  private async take(limiter: RateLimiterRedis, key: string): Promise<RateLimiterRes | RateLimited> {
    try {
      return await limiter.consume(key);
    } catch (err) {
      if (err instanceof RateLimiterRes) return this.refusal(secondsOf(err));
      throw err;
    }
  }

  private refusal(seconds: number): RateLimited {
    return new RateLimited(seconds, `Too many failed sign-in attempts. Try again in ${describeWait(seconds)}.`);
  }
}

/**
 * Failed authentications per key (a client_id, a client IP): refused once `max` failures were
 * counted, even with the right credentials, until the window (from the first failure) passes.
 */
export class FailureLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    make: LimiterFactory,
    name: string,
    private readonly max: number,
    windowSeconds: number,
    private readonly what: string,
    private readonly watch: StoreWatch,
    private readonly keyOf: (key: string) => string,
  ) {
    this.limiter = make(name, { points: max, duration: windowSeconds });
  }

  /** A refusal when `key` is over its limit; call before checking the credentials. */
  async check(key: string): Promise<RateLimited | null> {
    this.watch.note();
    const res = await this.limiter.get(this.keyOf(key));
    return res && res.consumedPoints >= this.max ? this.refusal(res) : null;
  }

  /** Counts one failure; a refusal when it used up the limit. */
  async fail(key: string): Promise<RateLimited | null> {
    this.watch.note();
    const res = await this.limiter.penalty(this.keyOf(key));
    return res.consumedPoints >= this.max ? this.refusal(res) : null;
  }

  private refusal(res: RateLimiterRes): RateLimited {
    const seconds = secondsOf(res);
    return new RateLimited(seconds, `too many failed ${this.what}; try again in ${describeWait(seconds)}`);
  }
}

/** A plain request rate per key (points per window). */
export class RequestLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(
    make: LimiterFactory,
    name: string,
    points: number,
    windowSeconds: number,
    private readonly what: (seconds: number) => string,
    private readonly watch: StoreWatch,
  ) {
    this.limiter = make(name, { points, duration: windowSeconds });
  }

  /** Counts one request; a refusal when the key is over its rate. */
  async consume(key: string): Promise<RateLimited | null> {
    this.watch.note();
    try {
      await this.limiter.consume(digest(key));
      return null;
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return new RateLimited(secondsOf(err), this.what(secondsOf(err)));
    }
  }
}

/**
 * Every rate limit of the coordinator, in Redis under `<QUEUE_PREFIX>:ratelimit:` so all instances
 * share them (and test stacks stay apart).
 *
 * Redis unreachable: each limiter falls back to an in-memory insurance limiter with the same
 * limits (rate-limiter-flexible's insuranceLimiter), so requests are neither failed with 500 nor
 * let through unlimited; the limits then hold per process instead of across instances, and the
 * fallback is logged once per outage.
 */
@Injectable()
export class RateLimits {
  readonly login: LoginLimiter;
  /** Wrong client secrets per client_id: the token endpoint and the queue dashboard share it. */
  readonly clientAuth: FailureLimiter;
  /** Bad server tokens at the api, per client IP. */
  readonly bearerAuth: FailureLimiter;
  /** Logout events posted per emitting client per minute. */
  readonly ingest: RequestLimiter;

  constructor(@Inject(REDIS) redis: RedisClient, @Inject(APP_CONFIG) config: AppConfig) {
    const watch = new StoreWatch(redis, new Logger('RateLimits'));
    const make: LimiterFactory = (name, opts) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${config.redis.prefix}:ratelimit:${name}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, ...opts }),
        ...opts,
      });
    const cfg = config.rateLimits;
    this.login = new LoginLimiter(make, cfg, watch);
    this.clientAuth = new FailureLimiter(
      make,
      'client-auth',
      cfg.clientAuthMaxFailures,
      cfg.clientAuthWindowSeconds,
      'client authentications for this client_id',
      watch,
      digest,
    );
    this.bearerAuth = new FailureLimiter(
      make,
      'bearer-auth-ip',
      cfg.bearerAuthMaxFailuresPerIp,
      cfg.bearerAuthWindowSeconds,
      'server token authentications from this address',
      watch,
      clientIpKey,
    );
    this.ingest = new RequestLimiter(
      make,
      'ingest-client',
      cfg.ingestMaxEventsPerMinute,
      60,
      (s) =>
        `this client posted more than ${cfg.ingestMaxEventsPerMinute} logout events in a minute; try again in ${describeWait(s)}`,
      watch,
    );
  }
}
