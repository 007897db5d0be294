import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret';

describe('client secrets', () => {
  it('verifies the right secret against its hash and nothing else', () => {
    const secret = generateClientSecret();
    const hash = hashClientSecret(secret);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(verifyClientSecret(hash, secret)).toBe(true);
    expect(verifyClientSecret(hash, `${secret}x`)).toBe(false);
    expect(verifyClientSecret(hash, hash)).toBe(false);
    expect(verifyClientSecret(hash, '')).toBe(false);
    expect(verifyClientSecret(null, secret)).toBe(false);
  });

  it('generates distinct 256-bit secrets', () => {
    const a = generateClientSecret();
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(generateClientSecret()).not.toBe(a);
  });
});
