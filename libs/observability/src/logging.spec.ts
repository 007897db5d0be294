import pino from 'pino';
import { REDACTED_PATHS, redactQuery } from './logging.module';

describe('redactQuery', () => {
  it('removes tokens and codes from logged URLs and keeps the rest', () => {
    expect(redactQuery('/cb?code=abc&state=xyz')).toBe('/cb?code=[redacted]&state=xyz');
    expect(redactQuery('/logout?client_id=a&oauth_token=secret')).toBe('/logout?client_id=a&oauth_token=[redacted]');
    expect(redactQuery('/session/end?id_token_hint=eyJ.x.y&state=1')).toBe('/session/end?id_token_hint=[redacted]&state=1');
    expect(redactQuery('/health/ready')).toBe('/health/ready');
  });
});

describe('log redaction', () => {
  it('keeps credentials, cookies and tokens out of request logs', () => {
    const lines: string[] = [];
    const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write: (l: string) => lines.push(l) });
    logger.info({
      req: { headers: { authorization: 'Bearer abc.def.ghi', cookie: '_session=s3cr3t', 'user-agent': 'curl' } },
      res: { headers: { 'set-cookie': ['_session=s3cr3t'] } },
      body: { password: 'hunter22', client_secret: 'shh', name: 'kept' },
    });
    const out = lines.join('');
    for (const secret of ['abc.def.ghi', 's3cr3t', 'hunter22', 'shh']) expect(out).not.toContain(secret);
    expect(out).toContain('curl');
    expect(out).toContain('kept');
  });
});
