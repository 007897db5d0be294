import { retryDelayMs, type BackoffSettings } from './backoff';
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

/** What a delivery becomes after one attempt. */
export type NextState =
  | {
      status: 'delivered' | 'rejected' | 'dead';
      outcome: 'delivered' | 'rejected' | 'dead';
      nextAt: null;
      disableEndpoint: boolean;
    }
  | { status: 'retrying'; outcome: 'retry'; nextAt: number; disableEndpoint: false };

export interface NextStateInput {
  verdict: Verdict;
  /** The attempt just made (1-based). */
  attempt: number;
  maxAttempts: number;
  /** The receiver's `Retry-After`, already clamped (ms), if any. */
  retryAfterMs: number | null;
  backoff: BackoffSettings;
  now: number;
  random?: () => number;
}

/**
 * Verdict → next state (docs/protocol.md): 2xx delivered; a refusal rejected (kept for a manual
 * retry); 410 dead and the endpoint disabled; a retryable failure retried after `Retry-After` or
 * the backoff, until the attempts run out (dead).
 */
export function nextState(i: NextStateInput): NextState {
  if (i.verdict === 'delivered') return { status: 'delivered', outcome: 'delivered', nextAt: null, disableEndpoint: false };
  if (i.verdict === 'rejected') return { status: 'rejected', outcome: 'rejected', nextAt: null, disableEndpoint: false };
  if (i.verdict === 'gone') return { status: 'dead', outcome: 'dead', nextAt: null, disableEndpoint: true };
  if (i.attempt >= i.maxAttempts) return { status: 'dead', outcome: 'dead', nextAt: null, disableEndpoint: false };
  const delay = i.retryAfterMs ?? retryDelayMs(i.attempt, i.backoff, i.random);
  return { status: 'retrying', outcome: 'retry', nextAt: i.now + delay, disableEndpoint: false };
}
