import { DataSource } from 'typeorm';
// globalSetup runs outside Jest's module mapping: relative imports only.
import { dataSourceOptions } from '../libs/database/src/data-source-options';
import { TEMPLATE_DB, TEST_PG_ADMIN_URL, withPg } from '../libs/testing/src/pg';

/** Builds the migrated template database every e2e test file clones. */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  await withPg(TEST_PG_ADMIN_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  });
  const ds = new DataSource(dataSourceOptions(`postgres://postgres@127.0.0.1:5432/${TEMPLATE_DB}`));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
