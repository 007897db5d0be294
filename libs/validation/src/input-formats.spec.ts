import { isUuid, parseInstant } from './input-formats';

describe('parseInstant', () => {
  it.each([
    ['2024-01-31T12:00:00Z', '2024-01-31T12:00:00.000Z'],
    ['2024-01-31T13:00:00.5+01:00', '2024-01-31T12:00:00.500Z'],
    ['2024-01-31T12:00:00.123456789Z', '2024-01-31T12:00:00.123Z'],
    ['2024-01-31t12:00:00z', '2024-01-31T12:00:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['0050-06-01T00:00:00-02:30', '0050-06-01T02:30:00.000Z'],
  ])('reads %s as one instant', (input, iso) => {
    expect(parseInstant(input)?.toISOString()).toBe(iso);
  });

  it.each([
    '2024-W01',
    '2024-W01-1',
    '2024-001',
    '2024-01-01T00:00:00,5Z',
    '2024-01-01T12:00:00',
    '2023-02-29',
    '2024-02-30T00:00:00Z',
    '2024-13-01',
    '2024-00-10',
    '2024-01-01T24:00:00Z',
    '2024-01-01T23:59:60Z',
    '2024-01-01T00:00:00+24:00',
    '+275760-09-13T00:00:00Z',
    '1',
    '',
    'yesterday',
  ])('refuses %s', (input) => {
    expect(parseInstant(input)).toBeNull();
  });

  it('refuses what is not a string', () => {
    expect(parseInstant(1_700_000_000_000)).toBeNull();
    expect(parseInstant(null)).toBeNull();
  });
});

describe('isUuid', () => {
  it('accepts canonical UUIDs only', () => {
    expect(isUuid('01900000-0000-7000-8000-000000000000')).toBe(true);
    expect(isUuid('-'.repeat(36))).toBe(false);
    expect(isUuid('zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz')).toBe(false);
    expect(isUuid('0190000000007000800000000000000000000')).toBe(false);
  });
});
