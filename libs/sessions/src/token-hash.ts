import { createHmac } from 'node:crypto';

/**
 * The key under which a token, code, session id or user code is stored: HMAC-SHA-256 under
 * TOKEN_HASH_KEY, base64url (43 characters). Keyed, so a database reader cannot confirm a guessed
 * value offline; deterministic, so the presented value finds its row. Every query that looks a
 * provider row up by `id` or `user_code` hashes the presented value with this.
 */
export function hashStoredId(key: string, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}
