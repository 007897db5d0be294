import { AppConfig, parseConfig } from '@slo/config';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { assertTestEnvironment, templateDb, TEST_PG_ADMIN_URL, withPg } from './pg';
import { TEST_SDK_DIR_ENV } from './test-sdk';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis Cluster the tests run on instead (`host:port,…`: scripts/test-cluster.sh sets it);
 * every app of a test stack then gets it as REDIS_CLUSTER_NODES.
 */
export const TEST_REDIS_CLUSTER_NODES = process.env.SLO_TEST_REDIS_CLUSTER_NODES || undefined;

/** True when the tests run on a Redis Cluster (SLO_TEST_REDIS_CLUSTER_NODES). */
export const TEST_ON_CLUSTER = !!TEST_REDIS_CLUSTER_NODES;

/** DELIVERY_SHARDS for every app of a test stack, when SLO_TEST_DELIVERY_SHARDS is set. */
const TEST_DELIVERY_SHARDS = process.env.SLO_TEST_DELIVERY_SHARDS || undefined;

/**
 * The Redis settings every app of the tests gets: REDIS_URL, and REDIS_CLUSTER_NODES and
 * DELIVERY_SHARDS when the tests run on a cluster or with shards (for processes a test spawns too).
 */
export function testRedisEnv(): Record<string, string> {
  return {
    REDIS_URL: TEST_REDIS_URL,
    ...(TEST_REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES } : {}),
    ...(TEST_DELIVERY_SHARDS ? { DELIVERY_SHARDS: TEST_DELIVERY_SHARDS } : {}),
  };
}

/** A TCP port that was free a moment ago (the issuer URL must be known before the app starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A database of its own for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  assertTestEnvironment();
  const name = `slo_test_${randomBytes(6).toString('hex')}`;
  await withPg(TEST_PG_ADMIN_URL, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${templateDb()}`));
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: () => withPg(TEST_PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export const TEST_ADMIN = { clientId: 'test-admin', secret: 'test-admin-secret-0123456789abcdef' };

/** Configuration for one test stack, overridable per test. */
export function testConfig(overrides: Record<string, string>): AppConfig {
  return parseConfig({
    NODE_ENV: 'test',
    ...testRedisEnv(),
    LOG_LEVEL: 'silent',
    BACKCHANNEL_ALLOWED_HOSTS: '127.0.0.1',
    BOOTSTRAP_ADMIN_CLIENT_ID: TEST_ADMIN.clientId,
    BOOTSTRAP_ADMIN_CLIENT_SECRET: TEST_ADMIN.secret,
    SDK_ASSETS_DIR: process.env[TEST_SDK_DIR_ENV] ?? 'dist/sdk',
    ...overrides,
  });
}

/** Variables that production mode requires, with throwaway test values. */
export const PRODUCTION_TEST_ENV = {
  NODE_ENV: 'production',
  COOKIE_KEYS: 'production-cookie-key-000000000000000000',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  TOKEN_HASH_KEY: 'production-token-hash-key-00000000000000',
};

/** Delivery settings for end-to-end tests: retries within milliseconds, the outbox relay every second. */
export const FAST_DELIVERY_ENV = {
  DELIVERY_BACKOFF_BASE_MS: '50',
  DELIVERY_BACKOFF_MAX_MS: '200',
  DELIVERY_SWEEP_INTERVAL_SECONDS: '1',
};
