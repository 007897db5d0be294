import { AppError } from '@slo/errors';
import { decodeCursor, encodeCursor } from './cursor';

describe('client-list cursors', () => {
  it('reads back what it wrote', () => {
    const c = { at: '2024-01-31T12:00:00.123Z', id: 'web-shop' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
  });

  it.each([
    ['a time Date.parse accepts but the api never writes', '["1","web-shop"]'],
    ['a week date', '["2024-W01","web-shop"]'],
    ['a rolled-over day', '["2024-02-30T00:00:00.000Z","web-shop"]'],
    ['a client id with a NUL', '["2024-01-31T12:00:00.123Z","a\\u0000b"]'],
    ['three members', '["2024-01-31T12:00:00.123Z","web-shop",1]'],
    ['an object', '{"at":"2024-01-31T12:00:00.123Z","id":"web-shop"}'],
    ['not JSON', 'nope'],
  ])('refuses %s with a 400 naming cursor', (_what, text) => {
    const raw = Buffer.from(text, 'utf8').toString('base64url');
    expect(() => decodeCursor(raw)).toThrow(AppError);
    expect(() => decodeCursor(raw)).toThrow('cursor: is not a cursor returned by this api');
  });

  it('refuses text that is not base64url', () => {
    expect(() => decodeCursor('!!!')).toThrow('cursor: is not a cursor returned by this api');
  });
});
