import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets are 256-bit random values, so a fast cryptographic hash is the right storage
 * (a slow password hash protects low-entropy input, and would slow every token request).
 */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

export function verifyClientSecret(storedHash: string | null | undefined, presented: unknown): boolean {
  if (!storedHash || typeof presented !== 'string' || presented.length === 0 || presented.length > 512) return false;
  const expected = Buffer.from(storedHash, 'utf8');
  const actual = Buffer.from(hashClientSecret(presented), 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
