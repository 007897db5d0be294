import { INestApplication } from '@nestjs/common';
import { AppConfig } from '@slo/config';
import { randomBytes } from 'node:crypto';
import { ApiClient } from './api-client';
import { deleteRedisKeys } from './redis-keys';
import { ClientCredentials, serverToken } from './server-token';
import { createTestDatabase, freePort, testConfig } from './test-env';
import { testRedis } from './test-redis';

type AppFactory = (config: AppConfig) => Promise<INestApplication>;
type AppKind = 'identity' | 'api' | 'worker';

export interface TestStack {
  config: AppConfig;
  dbUrl: string;
  identityUrl: string;
  apiUrl: string;
  workerUrl: string;
  /** The identity app (throws when the stack has none). */
  identity: INestApplication;
  api?: INestApplication;
  worker?: INestApplication;
  /**
   * Starts one more app of `kind` (with the factory given to `startTestStack`) on the same
   * database and Redis prefix, on a port of its own.
   */
  start(kind: AppKind, overrides?: Record<string, string>): Promise<{ app: INestApplication; url: string }>;
  /** A server token for the bootstrap admin (or given client) with the given scope. */
  serverToken(scope: string, client?: ClientCredentials): Promise<string>;
  /** An {@link ApiClient} for the api with `token` (anonymous without). */
  client(token?: string): ApiClient;
  close(): Promise<void>;
}

export type StackOptions = { [kind in AppKind]?: AppFactory } & { env?: Record<string, string> };

/**
 * The apps given (identity, api, worker: each optional, all started alike) for one test file:
 * its own database cloned from the migrated template, its own Redis key prefix, ephemeral ports.
 * `close()` stops everything and drops both.
 */
export async function startTestStack(opts: StackOptions): Promise<TestStack> {
  const db = await createTestDatabase();
  const prefix = `slotest-${randomBytes(4).toString('hex')}`;
  const kinds: AppKind[] = ['identity', 'api', 'worker'];
  const ports = { identity: await freePort(), api: await freePort(), worker: await freePort() };
  const urls = { identity: '', api: '', worker: '' };
  for (const kind of kinds) urls[kind] = `http://127.0.0.1:${ports[kind]}`;
  const baseEnv = {
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix,
    IDENTITY_ISSUER: urls.identity,
    API_PUBLIC_URL: urls.api,
    ...opts.env,
  };
  const config = testConfig(baseEnv);
  const apps: Partial<Record<AppKind, INestApplication>> = {};
  const extra: INestApplication[] = [];
  const close = async () => {
    for (const app of [...extra.reverse(), apps.worker, apps.api, apps.identity]) await app?.close();
    const redis = testRedis();
    try {
      await deleteRedisKeys(redis, prefix);
    } finally {
      await redis.quit();
    }
    await db.drop();
  };
  try {
    for (const kind of kinds) {
      const factory = opts[kind];
      if (!factory) continue;
      apps[kind] = await factory(config);
      await apps[kind].listen(ports[kind], '127.0.0.1');
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    config,
    dbUrl: db.url,
    identityUrl: urls.identity,
    apiUrl: urls.api,
    workerUrl: urls.worker,
    get identity() {
      if (!apps.identity) throw new Error('this test stack has no identity app');
      return apps.identity;
    },
    api: apps.api,
    worker: apps.worker,
    async start(kind, overrides = {}) {
      const factory = opts[kind];
      if (!factory) throw new Error(`no ${kind} factory was given to startTestStack`);
      const port = await freePort();
      const app = await factory(testConfig({ ...baseEnv, ...overrides }));
      extra.push(app);
      await app.listen(port, '127.0.0.1');
      return { app, url: `http://127.0.0.1:${port}` };
    },
    serverToken: (scope, client) => serverToken(urls.identity, scope, client),
    client: (token) => new ApiClient(urls.api, token),
    close,
  };
}
