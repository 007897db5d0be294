import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { base64Key, bool, int, list, oneOf, proxyHops, str, url, VarSpec } from './env-schema';

type Env = Record<string, string | undefined>;
const inProduction = (env: Env) => (env.NODE_ENV ?? 'development') === 'production';
const DEV_ONLY = 'development and test only';

/** Every variable the coordinator reads. `.env.example` documents the same list. */
export const ENV_VARS = {
  NODE_ENV: {
    description: 'development, test or production; anything but production is local development',
    default: 'development',
    parse: oneOf('development', 'test', 'production'),
  },
  DATABASE_URL: {
    description: 'PostgreSQL connection URL',
    default: 'postgres://postgres@127.0.0.1:5432/slo',
    parse: url('postgres:', 'postgresql:'),
  },
  REDIS_URL: {
    description: 'Redis connection URL (BullMQ transport)',
    default: 'redis://127.0.0.1:6379',
    parse: url('redis:', 'rediss:'),
  },
  QUEUE_PREFIX: {
    description: 'prefix of every BullMQ key in Redis',
    default: 'slo',
    parse: str({ minLength: 1 }),
  },
  IDENTITY_ISSUER: {
    description: 'public issuer URL of the identity service (no trailing slash)',
    default: (env) => (inProduction(env) ? undefined : 'http://localhost:4000'),
    parse: url('http:', 'https:'),
  },
  IDENTITY_INTERNAL_URL: {
    description: 'URL the api and worker use to reach the identity service (defaults to the issuer)',
    default: (env) => env.IDENTITY_ISSUER ?? (inProduction(env) ? undefined : 'http://localhost:4000'),
    optional: true,
    parse: url('http:', 'https:'),
  },
  IDENTITY_PORT: { description: 'port of the identity service', default: '4000', parse: int(0, 65535) },
  API_PORT: { description: 'port of the platform api', default: '4001', parse: int(0, 65535) },
  WORKER_PORT: { description: 'port of the worker (health only)', default: '4002', parse: int(0, 65535) },
  API_PUBLIC_URL: {
    description: 'public URL of the platform api',
    default: (env) => (inProduction(env) ? undefined : 'http://localhost:4001'),
    parse: url('http:', 'https:'),
  },
  API_AUDIENCE: {
    description: 'resource indicator (audience) of server tokens for the api; defaults to API_PUBLIC_URL',
    default: (env) => env.API_PUBLIC_URL ?? (inProduction(env) ? undefined : 'http://localhost:4001'),
    optional: true,
    parse: url('http:', 'https:', 'urn:'),
  },
  COOKIE_KEYS: {
    description: `comma-separated keys (32+ characters each) signing identity cookies; first one signs. Built-in value for ${DEV_ONLY}`,
    default: (env) => (inProduction(env) ? undefined : 'local-development-cookie-key-0000000000'),
    parse: list(str({ minLength: 32 }), { min: 1 }),
  },
  KEY_ENCRYPTION_KEY: {
    description: `32 random bytes, base64, encrypting private signing keys at rest. Built-in value for ${DEV_ONLY}`,
    default: (env) => (inProduction(env) ? undefined : 'bG9jYWwtZGV2ZWxvcG1lbnQta2V5LWVuY3J5cHQta2U='),
    parse: base64Key(32),
  },
  TOKEN_HASH_KEY: {
    description: `secret (32+ characters) keying the HMAC under which tokens, codes and session ids are stored; changing it ends every session and token. Its own value, not another key's. Built-in value for ${DEV_ONLY}`,
    default: (env) => (inProduction(env) ? undefined : 'local-development-token-hash-key-00000000'),
    parse: str({ minLength: 32 }),
  },
  BOOTSTRAP_ADMIN_CLIENT_ID: {
    description: 'client_id of the operator client created on first start',
    default: 'slo-admin',
    parse: str({ minLength: 3 }),
  },
  BOOTSTRAP_ADMIN_CLIENT_SECRET: {
    description: `secret of the bootstrap operator client (24+ characters); unset in production means no bootstrap client (use npm run cli -- create-admin). Built-in value for ${DEV_ONLY}`,
    default: (env) => (inProduction(env) ? undefined : 'local-admin-secret-change-me'),
    optional: true,
    parse: str({ minLength: 24 }),
  },
  BACKCHANNEL_ALLOWED_HOSTS: {
    description:
      'comma-separated IPs, CIDR ranges or host names that back-channel URIs may point at although private (tests: 127.0.0.1)',
    default: '',
    parse: list(str({ minLength: 1 })),
  },
  TRUST_PROXY: {
    description:
      'how many proxies in front of the apps to trust for X-Forwarded-* headers: false, true (one: a TLS-terminating load balancer) or a count; the client address is the one the outermost trusted proxy saw, so entries a client forges in X-Forwarded-For are ignored',
    default: 'false',
    parse: proxyHops,
  },
  METRICS_TOKEN: {
    description:
      'bearer token that GET /metrics of the api and the worker requires (Authorization: Bearer <token>, 32+ characters); unset: /metrics is refused in production and open in development and test',
    optional: true,
    parse: str({ minLength: 32 }),
  },
  HTTP_BODY_LIMIT_BYTES: {
    description: 'largest accepted JSON or form body',
    default: '65536',
    parse: int(1024, 10 * 1024 * 1024),
  },
  SESSION_TTL_SECONDS: {
    description: 'absolute lifetime of an identity session',
    default: '1209600',
    parse: int(60, 31536000),
  },
  ACCESS_TOKEN_TTL_SECONDS: {
    description: 'lifetime of access tokens, including server tokens',
    default: '3600',
    parse: int(60, 86400),
  },
  OIDC_CLEANUP_INTERVAL_SECONDS: {
    description: 'how often the worker deletes expired provider state (sessions, codes, tokens)',
    default: '300',
    parse: int(5, 86400),
  },
  DELIVERY_TIMEOUT_MS: {
    description: 'per-request timeout of a back-channel delivery (clients may override)',
    default: '5000',
    parse: int(100, 60000),
  },
  DELIVERY_MAX_ATTEMPTS: {
    description: 'scheduled attempts before a delivery is dead (clients may override)',
    default: '20',
    parse: int(1, 100),
  },
  DELIVERY_BACKOFF_BASE_MS: {
    description: 'ceiling of the first retry delay; each retry doubles it (full jitter: the delay is random below the ceiling)',
    default: '15000',
    parse: int(10, 3600000),
  },
  DELIVERY_BACKOFF_MAX_MS: {
    description: 'largest retry delay ceiling (the default schedule spans about a day over 20 attempts)',
    default: '14400000',
    parse: int(10, 86400000),
  },
  DELIVERY_RETRY_AFTER_MAX_MS: {
    description: 'longest wait a Retry-After header of a receiver is honoured with (shorter waits than 1 s become 1 s)',
    default: '3600000',
    parse: int(1000, 86400000),
  },
  DELIVERY_CONCURRENCY: {
    description: 'deliveries one worker process sends at once',
    default: '64',
    parse: int(1, 1000),
  },
  DELIVERY_ENDPOINT_CONCURRENCY: {
    description: 'deliveries to one endpoint in flight at once, across all workers',
    default: '8',
    parse: int(1, 1000),
  },
  BREAKER_FAILURE_THRESHOLD: {
    description: 'consecutive failed sends to an endpoint that open its circuit breaker',
    default: '5',
    parse: int(1, 1000),
  },
  BREAKER_COOLDOWN_MS: {
    description: 'how long an open breaker pauses sends before one probe; doubles while probes fail (up to 32x)',
    default: '30000',
    parse: int(10, 3600000),
  },
  OUTBOX_RELAY_INTERVAL_SECONDS: {
    description: 'how often the worker re-enqueues committed deliveries that are missing from the queue',
    default: '15',
    parse: int(1, 3600),
  },
  DELIVERY_LEASE_SECONDS: {
    description:
      "how long a worker's claim on a delivery lasts; a worker that died mid-send leaves its claims to others after this (at least the longest delivery timeout plus the time a send may wait for its endpoint)",
    default: '90',
    parse: int(5, 3600),
  },
  SDK_ASSETS_DIR: {
    description:
      'directory of the built browser SDK (npm run build:sdk) that identity serves at /sdk/; relative to the working directory',
    default: 'dist/sdk',
    parse: str({ minLength: 1 }),
  },
  LOGOUT_REDIRECT_WAIT_MS: {
    description:
      'how long a logout redirect (GET /logout, end_session) waits for the back-channel deliveries of that logout (LOGOUT_REDIRECT_WAIT_FOR); the redirect happens when the budget runs out, whatever happened; 0 redirects at once',
    default: '1000',
    parse: int(0, 30000),
  },
  LOGOUT_REDIRECT_WAIT_FOR: {
    description:
      'what a logout redirect waits for: returning_client (the delivery to the application the user is sent back to) or all (every participant)',
    default: 'returning_client',
    parse: oneOf('returning_client', 'all'),
  },
  SESSION_EXPIRY_SWEEP_SECONDS: {
    description: 'how often the worker records session_expired logouts for identity sessions that reached their lifetime',
    default: '60',
    parse: int(1, 86400),
  },
  ENDPOINT_AUTO_DISABLE_AFTER_SECONDS: {
    description:
      'disable a back-channel endpoint that delivered nothing for this long while its deliveries kept failing; 0 never',
    default: '86400',
    parse: int(0, 30 * 86400),
  },
  DELIVERY_RETENTION_DAYS: {
    description: 'delivered deliveries (with their attempts) older than this are deleted by the worker',
    default: '30',
    parse: int(1, 3650),
  },
  KEY_PUBLISH_DELAY_SECONDS: {
    description: 'after a key rotation, how long the new signing key is published before it signs',
    default: '3600',
    parse: int(1, 30 * 86400),
  },
  KEY_RETIRED_GRACE_SECONDS: {
    description: 'how long a retired signing key stays published for verification',
    default: '86400',
    parse: int(1, 365 * 86400),
  },
  KEY_RELOAD_SECONDS: {
    description: 'how often identity re-reads its signing keys (a rotation reaches every instance within this)',
    default: '30',
    parse: int(1, 3600),
  },
  LOGIN_MAX_CONSECUTIVE_FAILURES: {
    description:
      'wrong passwords for one e-mail address from one client IP before that pair is locked out (a successful sign-in resets the count)',
    default: '5',
    parse: int(1, 1000),
  },
  LOGIN_LOCKOUT_SECONDS: {
    description:
      'first lockout of an e-mail address from one client IP; each further lockout within LOGIN_FAILURE_WINDOW_SECONDS doubles it',
    default: '60',
    parse: int(1, 86400),
  },
  LOGIN_LOCKOUT_MAX_SECONDS: {
    description: 'longest lockout of an e-mail address from one client IP (the doubling stops here)',
    default: '3600',
    parse: int(1, 30 * 86400),
  },
  LOGIN_FAILURE_WINDOW_SECONDS: {
    description: 'how long failed sign-ins and lockouts of an e-mail address from one client IP are remembered',
    default: '86400',
    parse: int(60, 365 * 86400),
  },
  LOGIN_MAX_FAILURES_PER_IP_PER_DAY: {
    description:
      'wrong sign-ins from one client IP in a day, whatever the e-mail addresses; then that IP may not sign in for a day',
    default: '100',
    parse: int(1, 1000000),
  },
  CLIENT_AUTH_MAX_FAILURES: {
    description:
      'failed client authentications (wrong secret at /token or the queue dashboard) of one client_id before it is refused with 429, even with the right secret, until CLIENT_AUTH_WINDOW_SECONDS pass',
    default: '10',
    parse: int(1, 100000),
  },
  CLIENT_AUTH_WINDOW_SECONDS: {
    description: 'window of CLIENT_AUTH_MAX_FAILURES, counted from the first failure',
    default: '900',
    parse: int(1, 86400),
  },
  BEARER_AUTH_MAX_FAILURES_PER_IP: {
    description:
      'api requests with a bad server token from one client IP before that IP is refused with 429 until BEARER_AUTH_WINDOW_SECONDS pass',
    default: '50',
    parse: int(1, 1000000),
  },
  BEARER_AUTH_WINDOW_SECONDS: {
    description: 'window of BEARER_AUTH_MAX_FAILURES_PER_IP, counted from the first failure',
    default: '900',
    parse: int(1, 86400),
  },
  INGEST_MAX_EVENTS_PER_MINUTE: {
    description: 'logout events one emitting client may post to /v1/logout-events per minute; more answer 429',
    default: '600',
    parse: int(1, 1000000),
  },
  LOG_LEVEL: {
    description: 'fatal, error, warn, info, debug, trace or silent',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  LOG_PRETTY: { description: 'human-readable logs instead of JSON lines', default: 'false', parse: bool },
  LOG_FILE: {
    description: 'append the JSON log lines to this file instead of writing them to standard output (unset: standard output)',
    optional: true,
    parse: str({ minLength: 1 }),
  },
} satisfies Record<string, VarSpec<unknown>>;

type Specs = typeof ENV_VARS;
type ValueOf<K extends keyof Specs> = Specs[K] extends VarSpec<infer T> ? T : never;
type RawValues = { [K in keyof Specs]: ValueOf<K> | undefined };

export interface AppConfig {
  env: 'development' | 'test' | 'production';
  /** true outside production: http allowed for non-loopback URIs, cookies not Secure, built-in dev secrets. */
  isLocal: boolean;
  database: { url: string };
  redis: { url: string; prefix: string };
  identity: {
    issuer: string;
    internalUrl: string;
    port: number;
    cookieKeys: string[];
    keyEncryptionKey: Buffer;
    /** HMAC key of the provider's stored ids (tokens, codes, sessions): only hashes are stored. */
    tokenHashKey: string;
    sessionTtlSeconds: number;
    accessTokenTtlSeconds: number;
    /** Where the built browser SDK lies (served at /sdk/). */
    sdkDir: string;
  };
  api: { port: number; publicUrl: string; audience: string };
  worker: { port: number; cleanupIntervalSeconds: number };
  bootstrap: { clientId: string; clientSecret?: string };
  security: {
    backchannelAllowedHosts: string[]; /** Proxy hops trusted for X-Forwarded-* (0: none). */
    trustProxy: number;
    metricsToken?: string;
  };
  http: { bodyLimitBytes: number };
  delivery: {
    timeoutMs: number;
    maxAttempts: number;
    backoffBaseMs: number;
    backoffMaxMs: number;
    retryAfterMaxMs: number;
    concurrency: number;
    endpointConcurrency: number;
    breakerThreshold: number;
    breakerCooldownMs: number;
    relayIntervalSeconds: number;
    leaseSeconds: number;
  };
  logout: { redirectWaitMs: number; redirectWaitFor: 'returning_client' | 'all'; expirySweepSeconds: number };
  endpoints: { autoDisableAfterSeconds: number; retentionDays: number };
  keys: { publishDelaySeconds: number; retiredGraceSeconds: number; reloadSeconds: number };
  rateLimits: {
    loginMaxConsecutiveFailures: number;
    loginLockoutSeconds: number;
    loginLockoutMaxSeconds: number;
    loginFailureWindowSeconds: number;
    loginMaxFailuresPerIpPerDay: number;
    clientAuthMaxFailures: number;
    clientAuthWindowSeconds: number;
    bearerAuthMaxFailuresPerIp: number;
    bearerAuthWindowSeconds: number;
    ingestMaxEventsPerMinute: number;
  };
  log: { level: string; pretty: boolean; file?: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Parses and validates an environment. Throws ConfigError listing one line per problem. */
export function parseConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const raw = {} as Record<string, unknown>;
  const specs = ENV_VARS as Record<string, VarSpec<unknown>>;
  for (const [name, spec] of Object.entries(specs)) {
    let value = env[name];
    if (value === undefined || value === '') {
      value = typeof spec.default === 'function' ? spec.default(env) : spec.default;
    }
    if (value === undefined) {
      if (!spec.optional) problems.push(`${name}: is required (${spec.description})`);
      continue;
    }
    const parsed = spec.parse(value);
    if (parsed.ok) raw[name] = parsed.value;
    else problems.push(`${name}: ${parsed.error} (got ${JSON.stringify(redact(name, value))})`);
  }
  const v = raw as RawValues;
  if (v.DELIVERY_BACKOFF_BASE_MS !== undefined && v.DELIVERY_BACKOFF_MAX_MS !== undefined) {
    if (v.DELIVERY_BACKOFF_BASE_MS > v.DELIVERY_BACKOFF_MAX_MS) {
      problems.push('DELIVERY_BACKOFF_MAX_MS: must not be smaller than DELIVERY_BACKOFF_BASE_MS');
    }
  }
  if (v.LOGIN_LOCKOUT_SECONDS !== undefined && v.LOGIN_LOCKOUT_MAX_SECONDS !== undefined) {
    if (v.LOGIN_LOCKOUT_SECONDS > v.LOGIN_LOCKOUT_MAX_SECONDS) {
      problems.push('LOGIN_LOCKOUT_MAX_SECONDS: must not be smaller than LOGIN_LOCKOUT_SECONDS');
    }
  }
  if (v.TOKEN_HASH_KEY !== undefined && v.COOKIE_KEYS?.includes(v.TOKEN_HASH_KEY)) {
    problems.push('TOKEN_HASH_KEY: must not reuse a key of COOKIE_KEYS');
  }
  if (problems.length) throw new ConfigError(problems);
  const nodeEnv = v.NODE_ENV ?? 'development';
  return {
    env: nodeEnv,
    isLocal: nodeEnv !== 'production',
    database: { url: v.DATABASE_URL! },
    redis: { url: v.REDIS_URL!, prefix: v.QUEUE_PREFIX! },
    identity: {
      issuer: v.IDENTITY_ISSUER!,
      internalUrl: v.IDENTITY_INTERNAL_URL!,
      port: v.IDENTITY_PORT!,
      cookieKeys: v.COOKIE_KEYS!,
      keyEncryptionKey: v.KEY_ENCRYPTION_KEY!,
      tokenHashKey: v.TOKEN_HASH_KEY!,
      sessionTtlSeconds: v.SESSION_TTL_SECONDS!,
      accessTokenTtlSeconds: v.ACCESS_TOKEN_TTL_SECONDS!,
      sdkDir: v.SDK_ASSETS_DIR!,
    },
    api: { port: v.API_PORT!, publicUrl: v.API_PUBLIC_URL!, audience: v.API_AUDIENCE! },
    worker: { port: v.WORKER_PORT!, cleanupIntervalSeconds: v.OIDC_CLEANUP_INTERVAL_SECONDS! },
    bootstrap: { clientId: v.BOOTSTRAP_ADMIN_CLIENT_ID!, clientSecret: v.BOOTSTRAP_ADMIN_CLIENT_SECRET },
    security: {
      backchannelAllowedHosts: v.BACKCHANNEL_ALLOWED_HOSTS ?? [],
      trustProxy: v.TRUST_PROXY!,
      metricsToken: v.METRICS_TOKEN,
    },
    http: { bodyLimitBytes: v.HTTP_BODY_LIMIT_BYTES! },
    delivery: {
      timeoutMs: v.DELIVERY_TIMEOUT_MS!,
      maxAttempts: v.DELIVERY_MAX_ATTEMPTS!,
      backoffBaseMs: v.DELIVERY_BACKOFF_BASE_MS!,
      backoffMaxMs: v.DELIVERY_BACKOFF_MAX_MS!,
      retryAfterMaxMs: v.DELIVERY_RETRY_AFTER_MAX_MS!,
      concurrency: v.DELIVERY_CONCURRENCY!,
      endpointConcurrency: v.DELIVERY_ENDPOINT_CONCURRENCY!,
      breakerThreshold: v.BREAKER_FAILURE_THRESHOLD!,
      breakerCooldownMs: v.BREAKER_COOLDOWN_MS!,
      relayIntervalSeconds: v.OUTBOX_RELAY_INTERVAL_SECONDS!,
      leaseSeconds: v.DELIVERY_LEASE_SECONDS!,
    },
    keys: {
      publishDelaySeconds: v.KEY_PUBLISH_DELAY_SECONDS!,
      retiredGraceSeconds: v.KEY_RETIRED_GRACE_SECONDS!,
      reloadSeconds: v.KEY_RELOAD_SECONDS!,
    },
    endpoints: {
      autoDisableAfterSeconds: v.ENDPOINT_AUTO_DISABLE_AFTER_SECONDS!,
      retentionDays: v.DELIVERY_RETENTION_DAYS!,
    },
    logout: {
      redirectWaitMs: v.LOGOUT_REDIRECT_WAIT_MS!,
      redirectWaitFor: v.LOGOUT_REDIRECT_WAIT_FOR! as 'returning_client' | 'all',
      expirySweepSeconds: v.SESSION_EXPIRY_SWEEP_SECONDS!,
    },
    rateLimits: {
      loginMaxConsecutiveFailures: v.LOGIN_MAX_CONSECUTIVE_FAILURES!,
      loginLockoutSeconds: v.LOGIN_LOCKOUT_SECONDS!,
      loginLockoutMaxSeconds: v.LOGIN_LOCKOUT_MAX_SECONDS!,
      loginFailureWindowSeconds: v.LOGIN_FAILURE_WINDOW_SECONDS!,
      loginMaxFailuresPerIpPerDay: v.LOGIN_MAX_FAILURES_PER_IP_PER_DAY!,
      clientAuthMaxFailures: v.CLIENT_AUTH_MAX_FAILURES!,
      clientAuthWindowSeconds: v.CLIENT_AUTH_WINDOW_SECONDS!,
      bearerAuthMaxFailuresPerIp: v.BEARER_AUTH_MAX_FAILURES_PER_IP!,
      bearerAuthWindowSeconds: v.BEARER_AUTH_WINDOW_SECONDS!,
      ingestMaxEventsPerMinute: v.INGEST_MAX_EVENTS_PER_MINUTE!,
    },
    log: { level: v.LOG_LEVEL!, pretty: v.LOG_PRETTY!, file: v.LOG_FILE },
  };
}

function redact(name: string, value: string): string {
  return /KEY|SECRET|PASSWORD|TOKEN$/.test(name) ? '<redacted>' : value;
}

/**
 * The one place that reads process.env. Loads `.env` from the working directory when present
 * (variables already set win), then validates.
 */
export function loadConfigFromProcess(): AppConfig {
  const file = resolve(process.cwd(), '.env');
  if (existsSync(file) && process.env.NODE_ENV !== 'test') process.loadEnvFile(file);
  return parseConfig(process.env);
}

/** For entry points: validate or print one line per problem and exit(1). */
export function loadConfigOrExit(app: string): AppConfig {
  try {
    return loadConfigFromProcess();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${app}: cannot start, invalid configuration:\n`);
      for (const p of err.problems) process.stderr.write(`  ${p}\n`);
      process.exit(1);
    }
    throw err;
  }
}
