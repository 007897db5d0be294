import type { SendResult } from './http-sender';

/**
 * What a send's result means (docs/protocol.md, delivery outcome policy):
 * - `delivered`: any 2xx;
 * - `retry`: may be temporary — network errors, timeouts, 408, 425, 429, 5xx;
 * - `rejected`: the receiver refused or is misconfigured — 3xx (redirects are never followed),
 *   other 4xx, a blocked address; kept for a manual retry;
 * - `gone`: 410 — the delivery is dead and the endpoint is disabled.
 */
export type Verdict = 'delivered' | 'retry' | 'rejected' | 'gone';

const RETRYABLE_STATUS = new Set([408, 425, 429]);
const PERMANENT_ERRORS = new Set(['blocked_address', 'invalid_url']);

export function verdictOf(result: SendResult): Verdict {
  if (!result.ok) return PERMANENT_ERRORS.has(result.errorClass) ? 'rejected' : 'retry';
  const s = result.statusCode;
  if (s >= 200 && s < 300) return 'delivered';
  if (s === 410) return 'gone';
  if (RETRYABLE_STATUS.has(s) || s >= 500) return 'retry';
  return 'rejected';
}

/** Does this result count against the endpoint's circuit breaker? (Only failures that suggest it is down.) */
export function isEndpointFailure(result: SendResult): boolean {
  return verdictOf(result) === 'retry';
}
