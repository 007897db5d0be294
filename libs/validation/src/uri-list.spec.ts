import { validate } from 'class-validator';
import { IsUriList, Omittable, uriListProblems } from './uri-list';
import { IsString } from 'class-validator';

class Registration {
  @IsUriList({ maxItems: 2, maxLength: 20 })
  redirect_uris?: unknown;

  @Omittable()
  @IsString()
  name?: unknown;
}

async function problems(values: Partial<Record<keyof Registration, unknown>>): Promise<Record<string, string[]>> {
  const errors = await validate(Object.assign(new Registration(), values));
  return Object.fromEntries(errors.map((e) => [e.property, Object.values(e.constraints ?? {})]));
}

describe('IsUriList', () => {
  it('lets the list be left out, or be empty, or hold short strings', async () => {
    expect(await problems({})).toEqual({});
    expect(await problems({ redirect_uris: [] })).toEqual({});
    expect(await problems({ redirect_uris: ['https://a.example', 'https://b.example'] })).toEqual({});
  });

  it('refuses null, a string, too many members, members that are not strings or too long', async () => {
    expect(await problems({ redirect_uris: null })).toEqual({
      redirect_uris: [
        'redirect_uris must be an array',
        'redirect_uris must contain no more than 2 elements',
        'each value in redirect_uris must be a string',
        'each value in redirect_uris must be shorter than or equal to 20 characters',
      ],
    });
    expect((await problems({ redirect_uris: 'https://a.example' })).redirect_uris).toContain('redirect_uris must be an array');
    expect(await problems({ redirect_uris: ['a', 'b', 'c'] })).toEqual({
      redirect_uris: ['redirect_uris must contain no more than 2 elements'],
    });
    // A member that is not a string fails the length check too (MaxLength wants a string).
    expect(await problems({ redirect_uris: ['a', 1] })).toEqual({
      redirect_uris: [
        'each value in redirect_uris must be a string',
        'each value in redirect_uris must be shorter than or equal to 20 characters',
      ],
    });
    expect(await problems({ redirect_uris: ['x'.repeat(21)] })).toEqual({
      redirect_uris: ['each value in redirect_uris must be shorter than or equal to 20 characters'],
    });
  });
});

describe('Omittable', () => {
  it('skips the checks when the field is absent, not when it is null', async () => {
    expect(await problems({})).toEqual({});
    expect(await problems({ name: null })).toEqual({ name: ['name must be a string'] });
  });
});

describe('uriListProblems', () => {
  const check = (v: string) => (v.startsWith('https://') ? null : 'must be an https URI');

  it('names each bad member by its index', () => {
    expect(uriListProblems('redirect_uris', ['https://a.example', 'http://b.example', 'https://c.example', '/d'], check)).toEqual(
      [
        { field: 'redirect_uris[1]', problem: 'must be an https URI' },
        { field: 'redirect_uris[3]', problem: 'must be an https URI' },
      ],
    );
  });

  it('names the list when a member appears twice, and a bad duplicate at each index', () => {
    expect(uriListProblems('web_origins', ['x', 'https://a.example', 'x'], check)).toEqual([
      { field: 'web_origins[0]', problem: 'must be an https URI' },
      { field: 'web_origins[2]', problem: 'must be an https URI' },
      { field: 'web_origins', problem: 'must not contain duplicates' },
    ]);
  });

  it('has nothing to say of a good or empty list', () => {
    expect(uriListProblems('redirect_uris', [], check)).toEqual([]);
    expect(uriListProblems('redirect_uris', ['https://a.example', 'https://b.example'], check)).toEqual([]);
  });
});
