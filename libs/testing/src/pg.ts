import { Client } from 'pg';

/** Where tests find PostgreSQL and Redis (the machine's defaults). */
export const TEST_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * The migrated template of this test run. Each run (one Jest process tree) has its own, so a
 * developer's run and a CI run on the same machine do not drop each other's template.
 */
export const TEMPLATE_ENV = 'SLO_TEST_TEMPLATE_DB';
export function templateDb(): string {
  const name = process.env[TEMPLATE_ENV];
  if (!name || !/^slo_test_template_\d+$/.test(name))
    throw new Error(`${TEMPLATE_ENV} is not set: run the e2e tests through Jest`);
  return name;
}

export function assertTestEnvironment(): void {
  if (process.env.NODE_ENV !== 'test') {
    throw new Error('refusing to run a destructive test helper outside NODE_ENV=test');
  }
}

export async function withPg<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
