// globalTeardown runs outside Jest's module mapping: relative imports only.
import { TEMPLATE_ENV, TEST_PG_ADMIN_URL, withPg } from '../libs/testing/src/pg';

/** Drops this run's template database. */
export default async function globalTeardown(): Promise<void> {
  const name = process.env[TEMPLATE_ENV];
  if (!name) return;
  await withPg(TEST_PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}
