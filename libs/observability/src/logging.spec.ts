import { redactQuery } from './logging.module';

describe('redactQuery', () => {
  it('removes tokens and codes from logged URLs and keeps the rest', () => {
    expect(redactQuery('/cb?code=abc&state=xyz')).toBe('/cb?code=[redacted]&state=xyz');
    expect(redactQuery('/logout?client_id=a&oauth_token=secret')).toBe('/logout?client_id=a&oauth_token=[redacted]');
    expect(redactQuery('/session/end?id_token_hint=eyJ.x.y&state=1')).toBe('/session/end?id_token_hint=[redacted]&state=1');
    expect(redactQuery('/health/ready')).toBe('/health/ready');
  });
});
