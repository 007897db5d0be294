import type { SendResult } from './http-sender';
import { isEndpointFailure, verdictOf } from './outcome-policy';

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
