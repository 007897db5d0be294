import { issuedAtOrAfter } from './server-token-verifier';

describe('issuedAtOrAfter (iat in whole seconds against a rotation in milliseconds)', () => {
  const rotation = new Date('2026-01-01T12:00:00.400Z');
  const second = rotation.getTime() / 1000 - 0.4; // 12:00:00

  it('refuses a token of the rotation’s own second: it may have been issued before the rotation', () => {
    expect(issuedAtOrAfter(second, rotation)).toBe(false);
    expect(issuedAtOrAfter(second - 1, rotation)).toBe(false);
  });

  it('accepts a token of any later second', () => {
    expect(issuedAtOrAfter(second + 1, rotation)).toBe(true);
  });

  it('accepts a token of the same second when the rotation fell exactly on its start', () => {
    expect(issuedAtOrAfter(second, new Date('2026-01-01T12:00:00.000Z'))).toBe(true);
  });
});
