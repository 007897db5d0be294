import { sql } from './sql';
import { waitFor } from './wait-for';

/** A row of the deliveries table, as PostgreSQL returns it. */
export interface DeliveryRow {
  id: string;
  event_id: string;
  client_id: string;
  sid: string;
  status: string;
  attempts: number;
  last_error: string | null;
  last_status_code: number | null;
  delivered_at: Date | null;
}

/**
 * Polls the deliveries table until every delivery `where` names (one id, several, or a column
 * filter such as `{ client_id: 'shop' }`, which must match at least one row) has `status`;
 * returns the rows, ordered by id. Fails after the deadline with the statuses last seen.
 */
export async function waitForDelivery(
  stack: { dbUrl: string },
  where: string | string[] | Record<string, string>,
  status: string,
  opts: { timeoutMs?: number } = {},
): Promise<DeliveryRow[]> {
  const query = sql(stack);
  const filter = typeof where === 'string' || Array.isArray(where) ? { id: ([] as string[]).concat(where) } : where;
  const columns = Object.keys(filter);
  for (const c of columns) if (!/^[a-z_]+$/.test(c)) throw new Error(`not a deliveries column: ${c}`);
  const clause = columns.map((c, i) => `${c}::text = ANY($${i + 1}::text[])`).join(' AND ');
  const params = columns.map((c) => ([] as string[]).concat(filter[c as keyof typeof filter]));
  let last: { id: string; status: string }[] = [];
  return waitFor(
    async () => {
      const rows = await query<DeliveryRow>(`SELECT * FROM deliveries WHERE ${clause} ORDER BY id`, params);
      last = rows.map((r) => ({ id: r.id, status: r.status }));
      const complete = Array.isArray(filter.id) ? rows.length === filter.id.length : rows.length > 0;
      return complete && rows.every((r) => r.status === status) ? rows : null;
    },
    {
      timeoutMs: opts.timeoutMs ?? 15_000,
      what: () => `deliveries ${JSON.stringify(where)} to be ${status} (last: ${JSON.stringify(last)})`,
    },
  );
}
