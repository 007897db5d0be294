import { withPg } from './pg';

export type Sql = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** A query function on a stack's database (or a database URL): one connection per query, rows out. */
export function sql(target: { dbUrl: string } | string): Sql {
  const url = typeof target === 'string' ? target : target.dbUrl;
  return <T>(text: string, params: unknown[] = []) => withPg(url, (c) => c.query(text, params)).then((r) => r.rows as T[]);
}
