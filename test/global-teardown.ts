// globalTeardown runs outside Jest's module mapping: relative imports only.
import { rm } from 'node:fs/promises';
import { TEMPLATE_ENV, TEST_PG_ADMIN_URL, withPg } from '../libs/testing/src/pg';
import { TEST_SDK_DIR_ENV } from '../libs/testing/src/test-sdk';

/** Drops this run's template database and SDK build. */
export default async function globalTeardown(): Promise<void> {
  const sdkDir = process.env[TEST_SDK_DIR_ENV];
  if (sdkDir) await rm(sdkDir, { recursive: true, force: true });
  const name = process.env[TEMPLATE_ENV];
  if (!name) return;
  await withPg(TEST_PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
