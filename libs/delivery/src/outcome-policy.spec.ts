import type { SendResult } from './http-sender';
import { isEndpointFailure, nextState, verdictOf } from './outcome-policy';

const answered = (statusCode: number): SendResult => ({ ok: true, statusCode, retryAfter: null, excerpt: '', durationMs: 1 });
const failed = (errorClass: string): SendResult => ({ ok: false, errorClass, message: errorClass, durationMs: 1 });

describe('delivery outcome policy', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [299, 'delivered'],
    [301, 'rejected'],
    [302, 'rejected'],
    [307, 'rejected'],
    [400, 'rejected'],
    [401, 'rejected'],
    [404, 'rejected'],
    [408, 'retry'],
    [410, 'gone'],
    [425, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
  ])('treats HTTP %i as %s', (status, verdict) => {
    expect(verdictOf(answered(status))).toBe(verdict);
  });

  it.each([
    ['timeout', 'retry'],
    ['connection_refused', 'retry'],
    ['connection_reset', 'retry'],
    ['dns_error', 'retry'],
    ['tls_error', 'retry'],
    ['blocked_address', 'rejected'],
    ['invalid_url', 'rejected'],
  ])('treats a %s as %s', (errorClass, verdict) => {
    expect(verdictOf(failed(errorClass))).toBe(verdict);
  });

  it('counts only failures that suggest the endpoint is down against its breaker', () => {
    expect(isEndpointFailure(answered(503))).toBe(true);
    expect(isEndpointFailure(failed('timeout'))).toBe(true);
    expect(isEndpointFailure(answered(400))).toBe(false);
    expect(isEndpointFailure(answered(204))).toBe(false);
    expect(isEndpointFailure(failed('blocked_address'))).toBe(false);
  });
});

describe('verdict → next state', () => {
  const base = { attempt: 1, maxAttempts: 3, retryAfterMs: null, backoff: { baseMs: 1000, maxMs: 8000 }, now: 10_000 };

  it.each([
    ['delivered', 'delivered', false],
    ['rejected', 'rejected', false],
    ['gone', 'dead', true],
  ] as const)('%s ends the delivery as %s (endpoint disabled: %s)', (verdict, status, disable) => {
    expect(nextState({ ...base, verdict })).toEqual({ status, outcome: status, nextAt: null, disableEndpoint: disable });
  });

  it('retries after the jittered backoff of the attempt just made', () => {
    expect(nextState({ ...base, verdict: 'retry', attempt: 2, random: () => 0.5 })).toEqual({
      status: 'retrying',
      outcome: 'retry',
      nextAt: 10_000 + 1000, // ceiling 2,000 ms for attempt 2, half of it
      disableEndpoint: false,
    });
  });

  it("honours the receiver's Retry-After instead of the backoff", () => {
    expect(nextState({ ...base, verdict: 'retry', retryAfterMs: 30_000, random: () => 0.99 }).nextAt).toBe(40_000);
  });

  it('is dead once the last allowed attempt failed', () => {
    expect(nextState({ ...base, verdict: 'retry', attempt: 3 })).toEqual({
      status: 'dead',
      outcome: 'dead',
      nextAt: null,
      disableEndpoint: false,
    });
    expect(nextState({ ...base, verdict: 'retry', attempt: 2 }).status).toBe('retrying');
  });
});
