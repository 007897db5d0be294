export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based): exponential ceiling
 * `base · 2^(attempt-1)` capped at `max`, with full jitter (uniform between 0 and the ceiling),
 * so retries of many deliveries that failed together spread out instead of arriving in waves.
 */
export function retryDelayMs(attempt: number, s: BackoffSettings, random: () => number = Math.random): number {
  const ceiling = Math.min(s.maxMs, s.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  return Math.floor(random() * ceiling);
}

/**
 * A `Retry-After` header (delay-seconds or HTTP-date) as milliseconds from `now`, clamped to
 * [1 s, maxMs]; null when absent or unreadable.
 */
export function retryAfterMs(header: string | null, maxMs: number, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    // An HTTP-date names a weekday and month; anything else (e.g. "-5") is unreadable.
    const at = /^[A-Za-z]{3}, /.test(trimmed) ? Date.parse(trimmed) : NaN;
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 1000), maxMs);
}
