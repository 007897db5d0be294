import pino from 'pino';
import { redactQuery } from './logging.module';
import { logSafeMessage, REDACTED_PATHS, redactError, redactUrl } from '@slo/config';

describe('redactQuery', () => {
  it('removes tokens and codes from logged URLs and keeps the rest', () => {
    expect(redactQuery('/cb?code=abc&state=xyz')).toBe('/cb?code=[redacted]&state=xyz');
    expect(redactQuery('/logout?client_id=a&oauth_token=secret')).toBe('/logout?client_id=a&oauth_token=[redacted]');
    expect(redactQuery('/session/end?id_token_hint=eyJ.x.y&state=1')).toBe('/session/end?id_token_hint=[redacted]&state=1');
    expect(redactQuery('/health/ready')).toBe('/health/ready');
  });
});

describe('redactUrl', () => {
  it('redacts secrets in fragments, absolute URLs and percent-encoded names, whatever the case', () => {
    expect(redactUrl('https://rp.example/cb#code=abc&state=s')).toBe('https://rp.example/cb#code=[redacted]&state=s');
    expect(redactUrl('/token?Refresh_Token=r1&client_secret=s&grant_type=x')).toBe(
      '/token?Refresh_Token=[redacted]&client_secret=[redacted]&grant_type=x',
    );
    expect(redactUrl('/logout?oauth%5Ftoken=t&client_id=a')).toBe('/logout?oauth%5Ftoken=[redacted]&client_id=a');
    expect(redactUrl('/x?code=%ZZ&bad%=1')).toBe('/x?code=[redacted]&bad%=1');
    expect(redactUrl(undefined)).toBeUndefined();
  });
});

describe('redactError', () => {
  it('drops the parameters and driver details of a failed query and scrubs their values from the message', () => {
    const sealed = 'v1.sealed-webhook-secret-value';
    const err = Object.assign(new Error(`invalid input syntax for type uuid: "${sealed}"`), {
      query: 'INSERT INTO clients (secret_hash, webhook_secret_enc) VALUES ($1, $2)',
      parameters: ['$argon2id$v=19$m=19456$hash', sealed],
      detail: `Failing row contains (${sealed}).`,
      driverError: { detail: sealed },
      code: '22P02',
    });
    const out = JSON.stringify(redactError(pino.stdSerializers.err(err) as never));
    expect(out).not.toContain(sealed);
    expect(out).not.toContain('argon2');
    expect(out).toContain('22P02');
    expect(out).toContain('INSERT INTO clients');
    expect(logSafeMessage(err)).toBe('invalid input syntax for type uuid: "[redacted]"');
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
