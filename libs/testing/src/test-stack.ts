import { INestApplication } from '@nestjs/common';
import { AppConfig } from '@slo/config';
import { randomBytes } from 'node:crypto';
import { deleteRedisKeys } from './redis-keys';
import { createTestDatabase, freePort, testConfig, TEST_ADMIN, TEST_REDIS_URL } from './test-env';

export type AppFactory = (config: AppConfig) => Promise<INestApplication>;

export interface TestStack {
  config: AppConfig;
  dbUrl: string;
  identityUrl: string;
  apiUrl: string;
  identity: INestApplication;
  api?: INestApplication;
  extra: INestApplication[];
  /** Starts one more app of the given kind on the same database and Redis prefix. */
  start(factory: AppFactory, overrides?: Record<string, string>): Promise<{ app: INestApplication; url: string }>;
  /** A server token for the bootstrap admin (or given client) with the given scope. */
  serverToken(scope: string, client?: { clientId: string; secret: string }): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  identity: AppFactory;
  api?: AppFactory;
  env?: Record<string, string>;
}

/**
 * Identity (and optionally api) for one test file: its own database cloned from the migrated
 * template, its own Redis key prefix, ephemeral ports. `close()` stops everything and drops both.
 */
export async function startTestStack(opts: StackOptions): Promise<TestStack> {
  const db = await createTestDatabase();
  const prefix = `slotest-${randomBytes(4).toString('hex')}`;
  const [identityPort, apiPort] = [await freePort(), await freePort()];
  const identityUrl = `http://127.0.0.1:${identityPort}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const baseEnv = {
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix,
    IDENTITY_ISSUER: identityUrl,
    API_PUBLIC_URL: apiUrl,
    ...opts.env,
  };
  const config = testConfig(baseEnv);
  const extra: INestApplication[] = [];
  const identity = await opts.identity(config);
  await identity.listen(identityPort, '127.0.0.1');
  let api: INestApplication | undefined;
  if (opts.api) {
    api = await opts.api(config);
    await api.listen(apiPort, '127.0.0.1');
  }
  return {
    config,
    dbUrl: db.url,
    identityUrl,
    apiUrl,
    identity,
    api,
    extra,
    async start(factory, overrides = {}) {
      const port = await freePort();
      const app = await factory(testConfig({ ...baseEnv, ...overrides }));
      await app.listen(port, '127.0.0.1');
      extra.push(app);
      return { app, url: `http://127.0.0.1:${port}` };
    },
    async serverToken(scope, client = TEST_ADMIN) {
      const res = await fetch(`${identityUrl}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async close() {
      for (const app of [...extra, api, identity]) await app?.close();
      await deleteRedisKeys(TEST_REDIS_URL, prefix);
      await db.drop();
    },
  };
}
