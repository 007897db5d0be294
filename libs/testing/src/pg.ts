import { Client } from 'pg';

/** Where tests find PostgreSQL and Redis (the machine's defaults). */
export const TEST_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEMPLATE_DB = 'slo_test_template';

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
