import { Client } from 'pg';
import { decodeCursor, encodeCursor, Keyset, NOT_A_CURSOR, textKey, timestampKey, uuidKey } from './pager';

class Refused extends Error {}
const refuse = (field: string, problem: string) => new Refused(`${field}: ${problem}`);
const name = (part: string) => /^[a-z-]{1,20}$/.test(part);
const BY_TIME = [timestampKey('t.at'), textKey('t.name', name)];
const BY_ID = [uuidKey('t.id')];
const b64u = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const ID = '0190abcd-ef00-7000-8000-00000000000a';

describe('cursor codec', () => {
  it('reads back what it wrote', () => {
    const key = ['2024-01-31T12:00:00.123456Z', 'web-shop'];
    expect(decodeCursor(encodeCursor(key), BY_TIME)).toEqual(key);
    expect(decodeCursor(encodeCursor([ID]), BY_ID)).toEqual([ID]);
  });

  it.each([
    ['a time Date.parse accepts but the api never writes', '["1","web-shop"]'],
    ['a week date', '["2024-W01","web-shop"]'],
    ['a rolled-over day', '["2024-02-30T00:00:00.000000Z","web-shop"]'],
    ['a time in milliseconds (rounded: rows would be skipped)', '["2024-01-31T12:00:00.123Z","web-shop"]'],
    ['a time with an offset', '["2024-01-31T13:00:00.123456+01:00","web-shop"]'],
    ['a name with a NUL', '["2024-01-31T12:00:00.123456Z","a\\u0000b"]'],
    ['three members', '["2024-01-31T12:00:00.123456Z","web-shop","x"]'],
    ['one member', '["2024-01-31T12:00:00.123456Z"]'],
    ['a number', '["2024-01-31T12:00:00.123456Z",1]'],
    ['an object', '{"at":"2024-01-31T12:00:00.123456Z","id":"web-shop"}'],
    ['white space in the JSON', '[ "2024-01-31T12:00:00.123456Z","web-shop"]'],
    ['an escaped spelling of the same key', '["2024-01-31T12:00:00.123456Z","web\\u002dshop"]'],
    ['not JSON', 'nope'],
    ['deeply nested arrays', '['.repeat(3000)],
  ])('refuses %s', (_what, text) => {
    expect(decodeCursor(b64u(text), BY_TIME)).toBeNull();
  });

  it.each([
    ['an upper-case UUID (the api writes lower case)', `["${ID.toUpperCase()}"]`],
    ['a UUID of version 0', '["0190abcd-ef00-0000-8000-00000000000a"]'],
    ['a UUID one digit short', `["${ID.slice(1)}"]`],
    ['a UUID one digit long', `["${ID}0"]`],
    ['a UUID without dashes', `["${ID.replace(/-/g, '')}"]`],
    ['dashes', `["${'-'.repeat(36)}"]`],
    ['two ids', `["${ID}","${ID}"]`],
  ])('refuses %s as an id cursor', (_what, text) => {
    expect(decodeCursor(b64u(text), BY_ID)).toBeNull();
  });

  it('refuses the bare id the delivery lists wrote before', () => {
    expect(decodeCursor(b64u(ID), BY_ID)).toBeNull();
  });

  it('refuses text that is not base64url, and second spellings of a cursor', () => {
    const good = encodeCursor([ID]);
    expect(decodeCursor('!!!', BY_ID)).toBeNull();
    expect(decodeCursor(`${good}=`, BY_ID)).toBeNull();
    expect(decodeCursor(`${good} `, BY_ID)).toBeNull();
    expect(decodeCursor(Buffer.from(`["${ID}"]`).toString('base64'), BY_TIME)).toBeNull();
    // 40 bytes: the last character carries 2 bits of `]` and 4 unused ones, so `R` spells the same bytes as `Q`.
    const twin = `${good.slice(0, -1)}R`;
    expect(good.endsWith('Q')).toBe(true);
    expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(good, 'base64url'));
    expect(decodeCursor(twin, BY_ID)).toBeNull();
    expect(decodeCursor('', BY_ID)).toBeNull();
  });
});

describe('Keyset', () => {
  const keyset = new Keyset(BY_TIME, refuse);

  it('builds the ORDER BY, the key columns and the condition after a cursor', () => {
    expect(keyset.orderBy()).toBe('t.at DESC, t.name DESC');
    expect(keyset.sortColumns).toEqual(['t.at', 't.name']);
    expect(keyset.select()).toBe(
      `to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_key_0, t.name AS page_key_1`,
    );
    const values: string[] = [];
    const bind = (v: string) => `$${values.push(v)}`;
    expect(keyset.after(undefined, bind)).toBeNull();
    expect(keyset.after(encodeCursor(['2024-01-31T12:00:00.123456Z', 'b']), bind)).toBe(
      '(t.at, t.name) < ($1::timestamptz, $2::varchar)',
    );
    expect(values).toEqual(['2024-01-31T12:00:00.123456Z', 'b']);
  });

  it('answers a forged cursor with the refusal naming cursor', () => {
    const forged = b64u('["2024-01-31T12:00:00.123Z","b"]');
    expect(() => keyset.after(forged, String)).toThrow(Refused);
    expect(() => keyset.after(forged, String)).toThrow(`cursor: ${NOT_A_CURSOR}`);
  });

  it('has a next cursor only when there are more rows than the limit', () => {
    const rows = [
      { page_key_0: '2024-01-31T12:00:00.000003Z', page_key_1: 'c' },
      { page_key_0: '2024-01-31T12:00:00.000002Z', page_key_1: 'b' },
      { page_key_0: '2024-01-31T12:00:00.000001Z', page_key_1: 'a' },
    ];
    const page = keyset.page(rows, rows, 2);
    expect(page.data).toEqual(rows.slice(0, 2));
    expect(decodeCursor(page.next_cursor!, BY_TIME)).toEqual(['2024-01-31T12:00:00.000002Z', 'b']);
    expect(keyset.page(rows, rows, 3)).toEqual({ data: rows, next_cursor: null });
    expect(keyset.page([], [], 3)).toEqual({ data: [], next_cursor: null });
  });
});

describe('Keyset on PostgreSQL', () => {
  let pg: Client;
  beforeAll(async () => {
    pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await pg.connect();
    // A temporary table lives in this session only: nothing to clean up in the shared server.
    await pg.query('CREATE TEMP TABLE t (at timestamptz NOT NULL, name varchar NOT NULL)');
    // Times within one millisecond, apart by microseconds, and a tie on the time.
    await pg.query(`INSERT INTO t (at, name) VALUES
      ('2024-01-31T12:00:00.123456Z', 'b'), ('2024-01-31T12:00:00.123400Z', 'c'),
      ('2024-01-31T12:00:00.123400Z', 'a'), ('2024-01-31T12:00:00.123001Z', 'z'),
      ('2024-01-31T12:00:00.122999Z', 'y')`);
  });
  afterAll(() => pg.end());

  async function readAll(limit: number): Promise<string[]> {
    const keyset = new Keyset(BY_TIME, refuse);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const params: string[] = [];
      const after = keyset.after(cursor, (v) => `$${params.push(v)}`);
      const rows = (
        await pg.query<{ name: string }>(
          `SELECT t.*, ${keyset.select()} FROM t ${after ? `WHERE ${after}` : ''} ORDER BY ${keyset.orderBy()} LIMIT ${limit + 1}`,
          params,
        )
      ).rows;
      const page = keyset.page(rows, rows, limit);
      seen.push(...page.data.map((r) => r.name));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    return seen;
  }

  it.each([1, 2, 3])('pages rows apart by microseconds without skipping or repeating one (limit %i)', async (limit) => {
    expect(await readAll(limit)).toEqual(['b', 'c', 'a', 'z', 'y']);
  });

  it('writes the time with its microseconds into the cursor', async () => {
    const keyset = new Keyset(BY_TIME, refuse);
    const rows = (await pg.query(`SELECT t.*, ${keyset.select()} FROM t ORDER BY ${keyset.orderBy()} LIMIT 2`)).rows;
    expect(decodeCursor(keyset.page(rows, rows, 1).next_cursor!, BY_TIME)).toEqual(['2024-01-31T12:00:00.123456Z', 'b']);
  });

  it('writes ids the way it reads them', async () => {
    const keyset = new Keyset([uuidKey('u.id')], refuse);
    const rows = (
      await pg.query(`SELECT u.*, ${keyset.select()} FROM (VALUES ('${ID.toUpperCase()}'::uuid), ('${ID}'::uuid)) AS u(id)`)
    ).rows;
    expect(decodeCursor(keyset.page(rows, rows, 1).next_cursor!, [uuidKey('u.id')])).toEqual([ID]);
  });
});
