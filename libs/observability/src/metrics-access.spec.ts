import { parseConfig } from '@slo/config';
import { metricsAccess } from './metrics.module';

const PRODUCTION = {
  NODE_ENV: 'production',
  IDENTITY_ISSUER: 'https://id.example.com',
  API_PUBLIC_URL: 'https://api.example.com',
  COOKIE_KEYS: 'production-cookie-key-000000000000000000',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
  TOKEN_HASH_KEY: 'production-token-hash-key-0000000000000',
};
const TOKEN = 'metrics-token-0123456789abcdef0123456789';

describe('who may scrape /metrics', () => {
  it('with METRICS_TOKEN: only a request bearing exactly that token, in any environment', () => {
    for (const env of [
      { ...PRODUCTION, METRICS_TOKEN: TOKEN },
      { NODE_ENV: 'development', METRICS_TOKEN: TOKEN },
    ]) {
      const config = parseConfig(env);
      expect(metricsAccess(config, `Bearer ${TOKEN}`)).toBe('allowed');
      expect(metricsAccess(config, `bearer ${TOKEN}`)).toBe('allowed');
      expect(metricsAccess(config, undefined)).toBe('unauthenticated');
      expect(metricsAccess(config, `Bearer ${TOKEN}x`)).toBe('unauthenticated');
      expect(metricsAccess(config, `Bearer ${TOKEN.slice(0, -1)}`)).toBe('unauthenticated');
      expect(metricsAccess(config, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`)).toBe('unauthenticated');
    }
  });

  it('without METRICS_TOKEN: refused in production, open in local development', () => {
    expect(metricsAccess(parseConfig(PRODUCTION), undefined)).toBe('disabled');
    expect(metricsAccess(parseConfig(PRODUCTION), `Bearer ${TOKEN}`)).toBe('disabled');
    expect(metricsAccess(parseConfig({ NODE_ENV: 'development' }), undefined)).toBe('allowed');
  });

  it('refuses a short METRICS_TOKEN at startup and keeps its value out of the error', () => {
    expect(() => parseConfig({ NODE_ENV: 'development', METRICS_TOKEN: 'short-secret' })).toThrow(
      /METRICS_TOKEN: must be at least 32/,
    );
    expect(() => parseConfig({ NODE_ENV: 'development', METRICS_TOKEN: 'short-secret' })).not.toThrow(/short-secret/);
  });
});
