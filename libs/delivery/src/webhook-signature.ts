import { createHmac } from 'node:crypto';

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/**
 * Headers of a Standard Webhooks message: `webhook-id` (stable across retries so receivers can
 * de-duplicate), `webhook-timestamp` (seconds) and `webhook-signature` (`v1,` + base64
 * HMAC-SHA256 of `id.timestamp.body`; one entry per secret, space-separated, during rotation).
 */
export function webhookHeaders(
  secrets: string[],
  id: string,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const content = `${id}.${nowSeconds}.${body}`;
  const signatures = secrets.map((s) => `v1,${createHmac('sha256', secretBytes(s)).update(content).digest('base64')}`);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(nowSeconds),
    'webhook-signature': signatures.join(' '),
  };
}
