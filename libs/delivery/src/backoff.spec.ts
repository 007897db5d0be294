import { retryAfterMs, retryDelayMs } from './backoff';

const DEFAULTS = { baseMs: 15_000, maxMs: 4 * 3600_000 };

describe('retryDelayMs', () => {
  it('doubles the ceiling with each attempt up to the maximum', () => {
    const top = (attempt: number) => retryDelayMs(attempt, DEFAULTS, () => 1 - 1e-12);
    expect(top(1)).toBe(14_999);
    expect(top(2)).toBe(29_999);
    expect(top(5)).toBe(239_999);
    expect(top(15)).toBe(DEFAULTS.maxMs - 1);
    expect(top(1000)).toBe(DEFAULTS.maxMs - 1);
  });

  it('spreads delays over the whole range below the ceiling (full jitter)', () => {
    expect(retryDelayMs(3, DEFAULTS, () => 0)).toBe(0);
    expect(retryDelayMs(3, DEFAULTS, () => 0.5)).toBe(30_000);
    const samples = Array.from({ length: 2000 }, () => retryDelayMs(3, DEFAULTS));
    expect(Math.min(...samples)).toBeLessThan(6_000);
    expect(Math.max(...samples)).toBeGreaterThan(54_000);
    expect(Math.max(...samples)).toBeLessThan(60_000);
  });

  it('spans about a day over the default 20 attempts', () => {
    const ceilings = Array.from({ length: 19 }, (_, i) => retryDelayMs(i + 1, DEFAULTS, () => 1));
    const worst = ceilings.reduce((a, b) => a + b, 0);
    const expected = worst / 2;
    expect(expected / 3600_000).toBeGreaterThan(14);
    expect(expected / 3600_000).toBeLessThan(30);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');

  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterMs('120', 3600_000, now)).toBe(120_000);
    expect(retryAfterMs('Thu, 26 Nov 2026 12:05:00 GMT', 3600_000, now)).toBe(300_000);
  });

  it('keeps the wait within bounds', () => {
    expect(retryAfterMs('0', 3600_000, now)).toBe(1000);
    expect(retryAfterMs('Thu, 26 Nov 2026 11:00:00 GMT', 3600_000, now)).toBe(1000);
    expect(retryAfterMs('999999999', 3600_000, now)).toBe(3600_000);
  });

  it('ignores absent or unreadable values', () => {
    expect(retryAfterMs(null, 3600_000, now)).toBeNull();
    expect(retryAfterMs('soon', 3600_000, now)).toBeNull();
    expect(retryAfterMs('-5', 3600_000, now)).toBeNull();
  });
});
