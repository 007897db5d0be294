import { UsersService } from '@slo/accounts';
import { dataSourceOptions, UserEntity } from '@slo/database';
import {
  createTestDatabase,
  deleteRedisKeys,
  FAST_DELIVERY_ENV,
  freePort,
  PRODUCTION_TEST_ENV,
  RoundRobinProxy,
  testConfig,
  TEST_ADMIN,
  testRedis,
  testRedisEnv,
  waitFor,
} from '@slo/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { DataSource } from 'typeorm';

export type AppKind = 'identity' | 'api' | 'worker';

const ROOT = resolve(__dirname, '../..');
const PORT_VARIABLE = { identity: 'IDENTITY_PORT', api: 'API_PORT', worker: 'WORKER_PORT' } as const;

/** What every instance of every app must agree on: one database, one Redis prefix, the public URLs, the secrets. */
interface SharedSetup {
  dbUrl: string;
  prefix: string;
  identityUrl: string;
  apiUrl: string;
}

/** The one environment given to every process (identity, api, worker alike), with `overrides` last. */
function multiEnv(shared: SharedSetup, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_URL: shared.dbUrl,
    // The test run's Redis: a cluster and shards when SLO_TEST_REDIS_CLUSTER_NODES / SLO_TEST_DELIVERY_SHARDS say so.
    ...testRedisEnv(),
    QUEUE_PREFIX: shared.prefix,
    // The proxies' URLs: tokens, cookies and logout tokens are valid whichever instance answers.
    IDENTITY_ISSUER: shared.identityUrl,
    API_PUBLIC_URL: shared.apiUrl,
    COOKIE_KEYS: PRODUCTION_TEST_ENV.COOKIE_KEYS,
    KEY_ENCRYPTION_KEY: PRODUCTION_TEST_ENV.KEY_ENCRYPTION_KEY,
    TOKEN_HASH_KEY: PRODUCTION_TEST_ENV.TOKEN_HASH_KEY,
    BOOTSTRAP_ADMIN_CLIENT_ID: TEST_ADMIN.clientId,
    BOOTSTRAP_ADMIN_CLIENT_SECRET: TEST_ADMIN.secret,
    BACKCHANNEL_ALLOWED_HOSTS: '127.0.0.1',
    SDK_ASSETS_DIR: testConfig({}).identity.sdkDir,
    ...FAST_DELIVERY_ENV,
    ...overrides,
  };
}

/** One app running as a process of its own (from source, as the other process tests start them). */
export interface AppProcess {
  kind: AppKind;
  url: string;
  /** The last few kilobytes the process wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful shutdown), SIGKILL if it is still there after 10 s. */
  close(): Promise<void>;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Starts `kind` on `port` with `env` and waits (with a deadline) until its /health/ready answers 200. */
async function spawnApp(kind: AppKind, port: number, env: Record<string, string>): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', `apps/${kind}/src/main.ts`],
    { cwd: ROOT, env: { ...env, [PORT_VARIABLE[kind]]: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const app: AppProcess = {
    kind,
    url,
    output: () => output,
    kill: () => stop(child, 'SIGKILL', 0),
    close: () => stop(child, 'SIGTERM', 10_000),
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}: ${output}`);
        return (await fetch(`${url}/health/ready`).catch(() => null))?.ok;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: () => `${kind} on port ${port} to be ready; its output: ${output}` },
    );
  } catch (err) {
    await app.kill();
    throw err;
  }
  return app;
}

export interface MultiInstance extends SharedSetup {
  identity: RoundRobinProxy;
  api: RoundRobinProxy;
  processes: Record<AppKind, AppProcess[]>;
  close(): Promise<void>;
}

/**
 * `counts` processes of each app on one database (cloned from the template) and one Redis
 * prefix, identity's and the api's instances each behind a round-robin proxy whose URL is the
 * public one; the workers have no traffic to balance. Every process starts at once.
 */
export async function startMultiInstance(
  counts: Record<AppKind, number>,
  overrides: Record<string, string> = {},
): Promise<MultiInstance> {
  const db = await createTestDatabase();
  const prefix = `slotest-${randomBytes(4).toString('hex')}`;
  const ports = async (n: number) => {
    const out: number[] = [];
    while (out.length < n) out.push(await freePort());
    return out;
  };
  const portsOf = { identity: await ports(counts.identity), api: await ports(counts.api), worker: await ports(counts.worker) };
  const identity = await RoundRobinProxy.start(portsOf.identity);
  const api = await RoundRobinProxy.start(portsOf.api);
  const shared = { dbUrl: db.url, prefix, identityUrl: identity.url, apiUrl: api.url };
  const env = multiEnv(shared, overrides);
  const processes: Record<AppKind, AppProcess[]> = { identity: [], api: [], worker: [] };
  const close = async () => {
    await Promise.all(Object.values(processes).flatMap((list) => list.map((p) => p.close())));
    await identity.close();
    await api.close();
    const redis = testRedis();
    try {
      await deleteRedisKeys(redis, prefix);
    } finally {
      await redis.quit();
    }
    await db.drop();
  };
  const kinds = Object.keys(portsOf) as AppKind[];
  const started = await Promise.allSettled(
    kinds.flatMap((kind) => portsOf[kind].map(async (port) => processes[kind].push(await spawnApp(kind, port, env)))),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { ...shared, identity, api, processes, close };
}

/** Creates `user` through the accounts service on `dbUrl`; returns its id (the `sub` of its tokens). */
export async function createUser(dbUrl: string, user: { email: string; password: string; name?: string }): Promise<string> {
  const ds = await new DataSource(dataSourceOptions(dbUrl)).initialize();
  try {
    return (await new UsersService(ds.getRepository(UserEntity)).create(user)).id;
  } finally {
    await ds.destroy();
  }
}

/** Delivery attempts `worker` sent (its `slo_delivery_attempts_total`, every outcome), read from its /metrics. */
export async function attemptsSentBy(worker: AppProcess): Promise<number> {
  const text = await (await fetch(`${worker.url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^slo_delivery_attempts_total\{[^}]*\} (\d+)$/gm)) sum += Number(m[1]);
  return sum;
}

/**
 * Makes every fetch of this test file (the test helpers' included) send `connection: close`, so
 * each request opens a connection of its own and the round-robin proxies hand consecutive
 * requests to different instances. Returns the function that puts fetch back.
 */
export function closeEachConnection(): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('connection', 'close');
    return original(input, { ...init, headers });
  };
  return () => {
    globalThis.fetch = original;
  };
}
