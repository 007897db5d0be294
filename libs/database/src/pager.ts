import { isUuid, parseInstant } from '@slo/validation';

/** One page of a list, newest first, and the cursor of the next page (null on the last one). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageRequest {
  /** next_cursor of the previous page; absent for the first page. */
  cursor?: string;
  limit: number;
}

/** The problem a cursor the api did not write is refused with. */
export const NOT_A_CURSOR = 'is not a cursor returned by this api';

/** One column of a sort key. */
interface KeyColumn {
  /** The column as the query names it, e.g. `c.created_at`. */
  column: string;
  /** SQL giving the column's value as exact text: what the cursor carries. */
  text: string;
  /** The PostgreSQL type a cursor value is cast to when compared with the column. */
  type: string;
  /** Whether a cursor part is text the api writes for this column. */
  accepts(part: string): boolean;
}

/**
 * A timestamptz as text with all its microseconds (`2024-01-31T12:00:00.123456Z`): a JS Date
 * keeps milliseconds only, and a cursor rounded to them would skip rows at a page boundary.
 */
export function timestampKey(column: string): KeyColumn {
  return {
    column,
    text: `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    type: 'timestamptz',
    accepts: (part) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(part) && parseInstant(part) !== null,
  };
}

/** A uuid column; PostgreSQL writes it in lower case, so a cursor carries it only so. */
export function uuidKey(column: string): KeyColumn {
  return { column, text: `${column}::text`, type: 'uuid', accepts: (part) => isUuid(part) && part === part.toLowerCase() };
}

/** A varchar column whose values `accepts` tells apart from anything else. */
export function textKey(column: string, accepts: (part: string) => boolean): KeyColumn {
  return { column, text: column, type: 'varchar', accepts };
}

export function encodeCursor(key: string[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key a cursor carries, or null unless it is exactly what encodeCursor writes for these columns. */
export function decodeCursor(raw: string, columns: readonly KeyColumn[]): string[] | null {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== columns.length) return null;
  const key: unknown[] = parsed;
  if (!key.every((part, i) => typeof part === 'string' && columns[i].accepts(part))) return null;
  // One spelling only: no other base64 tail bits, JSON whitespace or escapes for the same key.
  return encodeCursor(key as string[]) === raw ? (key as string[]) : null;
}

type KeyRow = Record<string, unknown>;

/**
 * Keyset pagination on a sort key, newest first: a page is the `limit` rows below the last key
 * of the previous page, so pages stay stable while rows are added. Every list endpoint pages so.
 */
export class Keyset {
  constructor(
    private readonly columns: readonly KeyColumn[],
    /** The error a bad cursor answers (AppError.validation: a 400 naming `cursor`), from the caller's layer. */
    private readonly refuse: (field: 'cursor', problem: string) => Error,
  ) {}

  /** The sort columns, most significant first (each sorted descending). */
  get sortColumns(): string[] {
    return this.columns.map((c) => c.column);
  }

  /** An ORDER BY list. */
  orderBy(): string {
    return this.columns.map((c) => `${c.column} DESC`).join(', ');
  }

  /** SELECT items carrying the key as text (`… AS page_key_0`), which page() reads back. */
  select(): string {
    return this.columns.map((c, i) => `${c.text} AS page_key_${i}`).join(', ');
  }

  /**
   * The condition for the rows after `cursor` with placeholders made by `bind`, or null on the
   * first page. A cursor this keyset did not write throws (`refuse`).
   */
  after(cursor: string | undefined, bind: (value: string) => string): string | null {
    if (cursor === undefined) return null;
    const key = decodeCursor(cursor, this.columns);
    if (!key) throw this.refuse('cursor', NOT_A_CURSOR);
    const values = key.map((part, i) => `${bind(part)}::${this.columns[i].type}`);
    return `(${this.sortColumns.join(', ')}) < (${values.join(', ')})`;
  }

  /** The page of `items`, fetched with LIMIT limit + 1; `keys[i]` holds the page_key_* of `items[i]`. */
  page<T>(items: T[], keys: KeyRow[], limit: number): Page<T> {
    const data = items.slice(0, limit);
    const last = keys[data.length - 1];
    const next = items.length > limit && last ? this.columns.map((_, i) => String(last[`page_key_${i}`])) : null;
    return { data, next_cursor: next ? encodeCursor(next) : null };
  }
}
