import { AppError } from '@slo/errors';
import { parseInstant } from '@slo/observability';

export interface Cursor {
  at: string;
  id: string;
}

/** What encodeCursor writes: `Date#toISOString()` of the row's creation and its client_id. */
const CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURSOR_ID = /^[A-Za-z0-9._:-]{3,100}$/;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.at, c.id]), 'utf8').toString('base64url');
}

/** Only what encodeCursor produced: anything else (`["1","x"]`, which Date.parse accepts) is a 400. */
export function decodeCursor(raw: string): Cursor {
  try {
    if (/^[A-Za-z0-9_-]+$/.test(raw)) {
      const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
      if (Array.isArray(parsed) && parsed.length === 2) {
        const [at, id] = parsed as unknown[];
        if (typeof at === 'string' && CURSOR_AT.test(at) && parseInstant(at) && typeof id === 'string' && CURSOR_ID.test(id)) {
          return { at, id };
        }
      }
    }
  } catch {
    // fall through
  }
  throw AppError.validation('cursor', 'is not a cursor returned by this api');
}
