import { openPrivateKey, sealPrivateKey } from '@slo/keys';
import { randomBytes } from 'node:crypto';

/** Standard Webhooks secrets: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Associated data binding a sealed webhook secret to its client (a ciphertext cannot be moved to another row). */
function aad(clientId: string): string {
  return `webhook-secret:${clientId}`;
}

/** Webhook secrets are needed in clear to sign, so they are stored encrypted with the key-encryption key. */
export function sealWebhookSecret(kek: Buffer, clientId: string, secret: string): string {
  return sealPrivateKey(kek, aad(clientId), secret);
}

export function openWebhookSecret(kek: Buffer, clientId: string, sealed: string): string {
  return openPrivateKey(kek, aad(clientId), sealed);
}
