import { validate } from 'class-validator';
import { CLIENT_ID_HINT, isClientId, IsClientId, IsInstant, isUuid, IsUuid, parseInstant } from './input-formats';

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

  it.each([
    ['lower case', '0190abcd-ef00-7000-8000-00000000000a'],
    ['upper case', '0190ABCD-EF00-7000-8000-00000000000A'],
    ['mixed case', '0190abcd-EF00-4000-b000-00000000000a'],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
    ['the max UUID', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'],
  ])('accepts %s', (_what, value) => {
    expect(isUuid(value)).toBe(true);
  });

  it.each([
    ['one digit short', '0190abcd-ef00-7000-8000-00000000000'],
    ['one digit long', '0190abcd-ef00-7000-8000-00000000000a0'],
    ['dashes moved', '0190abcde-f00-7000-8000-00000000000a'],
    ['braces', '{0190abcd-ef00-7000-8000-00000000000a}'],
    ['a version 0', '0190abcd-ef00-0000-8000-00000000000a'],
    ['a version 9', '0190abcd-ef00-9000-8000-00000000000a'],
    ['a variant 0', '0190abcd-ef00-7000-0000-00000000000a'],
    ['a non-hex digit', '0190abcd-ef00-7000-8000-00000000000g'],
    ['white space around it', ' 0190abcd-ef00-7000-8000-00000000000a'],
    ['a line break after it', '0190abcd-ef00-7000-8000-00000000000a\n'],
    ['an empty string', ''],
  ])('refuses %s', (_what, value) => {
    expect(isUuid(value)).toBe(false);
  });

  it('refuses what is not a string', () => {
    expect(isUuid(null)).toBe(false);
    expect(isUuid(['0190abcd-ef00-7000-8000-00000000000a'])).toBe(false);
  });
});

describe('isClientId', () => {
  it.each(['web', 'web-shop', 'a.b_c:d-e', 'X'.repeat(100), 'c_0123456789abcdefABCDEF'])('accepts %s', (value) => {
    expect(isClientId(value)).toBe(true);
  });

  it.each([
    ['too short', 'ab'],
    ['too long', 'x'.repeat(101)],
    ['a slash', 'web/shop'],
    ['a space', 'web shop'],
    ['a NUL', 'web\u0000'],
    ['a line break after it', 'web-shop\n'],
    ['non-ASCII letters', 'wéb-shop'],
    ['an empty string', ''],
  ])('refuses %s', (_what, value) => {
    expect(isClientId(value)).toBe(false);
  });
});

class Query {
  @IsClientId()
  client_id: unknown;

  @IsClientId({ each: true })
  target_clients: unknown;

  @IsClientId({ message: CLIENT_ID_HINT })
  chosen: unknown;

  @IsUuid()
  event_id: unknown;

  @IsInstant()
  since: unknown;
}

async function problems(values: Partial<Record<keyof Query, unknown>>): Promise<Record<string, string[]>> {
  const q = Object.assign(new Query(), {
    client_id: 'web',
    target_clients: [],
    chosen: 'web',
    event_id: '',
    since: '2024-01-31',
  });
  Object.assign(q, { event_id: '0190abcd-ef00-7000-8000-00000000000a' }, values);
  const errors = await validate(q);
  return Object.fromEntries(errors.map((e) => [e.property, Object.values(e.constraints ?? {})]));
}

describe('the decorators', () => {
  it('pass good values', async () => {
    expect(await problems({ target_clients: ['web', 'forum'] })).toEqual({});
  });

  it('name each problem as the api answers it', async () => {
    expect(
      await problems({ client_id: 'a b', target_clients: ['web', 'x'], chosen: '!', event_id: '42', since: '2024-W01' }),
    ).toEqual({
      client_id: ['must be a client_id'],
      target_clients: ['each value must be a client_id'],
      chosen: [CLIENT_ID_HINT],
      event_id: ['event_id must be a UUID'],
      since: [expect.stringMatching(/^must be an RFC 3339 date-time/)],
    });
  });

  it('refuse values that are not strings', async () => {
    expect(Object.keys(await problems({ client_id: 42, event_id: 7, since: 1_700_000_000_000 }))).toEqual([
      'client_id',
      'event_id',
      'since',
    ]);
  });
});
