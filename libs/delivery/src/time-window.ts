import { AppError } from '@slo/errors';

/** Longest window a recover or bulk retry may cover in one request. */
const MAX_RETRY_WINDOW_DAYS = 30;

/** [since, until) from request values (until defaults to now); a 400 naming the field when empty or wider than the cap. */
export function retryWindow(since: string | Date, until?: string | Date): { since: Date; until: Date } {
  const s = new Date(since);
  const u = until ? new Date(until) : new Date();
  if (u <= s) throw AppError.validation('until', 'must be after since');
  if (u.getTime() - s.getTime() > MAX_RETRY_WINDOW_DAYS * 86_400_000) {
    throw AppError.validation('since', `the window may span at most ${MAX_RETRY_WINDOW_DAYS} days`);
  }
  return { since: s, until: u };
}
