import { DataSource } from 'typeorm';
// globalSetup runs outside Jest's module mapping: relative imports only.
import { dataSourceOptions } from '../libs/database/src/data-source-options';
import { TEMPLATE_ENV, TEST_PG_ADMIN_URL, withPg } from '../libs/testing/src/pg';
import { TEST_SDK_DIR_ENV } from '../libs/testing/src/test-sdk';
import { buildSdk } from '../scripts/build-sdk';

/** Builds the migrated template database every e2e test file of this run clones, and the browser SDK identity serves. */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  const sdkDir = `${__dirname}/../.tmp/test-sdk-${process.pid}`;
  await buildSdk(sdkDir);
  process.env[TEST_SDK_DIR_ENV] = sdkDir;
  const name = `slo_test_template_${process.pid}`;
  // Test workers inherit the environment of the process that ran this setup.
  process.env[TEMPLATE_ENV] = name;
  await withPg(TEST_PG_ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  const ds = new DataSource(dataSourceOptions(`postgres://postgres@127.0.0.1:5432/${name}`));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
