import { randomBytes } from 'node:crypto';
import { openPrivateKey, sealPrivateKey } from './key-envelope';

describe('private key envelope', () => {
  const kek = randomBytes(32);

  it('round-trips and hides the plaintext', () => {
    const sealed = sealPrivateKey(kek, 'kid-1', '{"d":"secret-material"}');
    expect(sealed).not.toContain('secret-material');
    expect(openPrivateKey(kek, 'kid-1', sealed)).toBe('{"d":"secret-material"}');
  });

  it('refuses another key-encryption key, another key id, or a tampered ciphertext', () => {
    const sealed = sealPrivateKey(kek, 'kid-1', 'payload');
    expect(() => openPrivateKey(randomBytes(32), 'kid-1', sealed)).toThrow(/KEY_ENCRYPTION_KEY/);
    expect(() => openPrivateKey(kek, 'kid-2', sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => openPrivateKey(kek, 'kid-1', parts.join('.'))).toThrow();
  });
});
