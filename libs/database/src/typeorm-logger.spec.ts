import { Logger } from '@nestjs/common';
import type { LoggerOptions } from 'typeorm';
import { ParameterFreeTypeOrmLogger } from './typeorm-logger';

describe('ParameterFreeTypeOrmLogger', () => {
  const secret = 'sealed-secret-0123456789';
  let lines: string[];
  beforeEach(() => {
    lines = [];
    for (const level of ['log', 'warn', 'error'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation((...args: unknown[]) => void lines.push(String(args[0])));
    }
  });
  afterEach(() => jest.restoreAllMocks());

  it('logs queries and failed queries without their parameters, as the logging option asks', () => {
    let logging: LoggerOptions = ['query', 'error'];
    const logger = new ParameterFreeTypeOrmLogger(() => logging);
    logger.logQuery('UPDATE clients SET secret_hash = $1', [secret]);
    logger.logQueryError(new Error(`value too long: "${secret}"`), 'UPDATE clients SET secret_hash = $1', [secret]);
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(secret);
    expect(lines[0]).toBe('query: UPDATE clients SET secret_hash = $1 -- 1 parameters, not logged');
    expect(lines[1]).toContain('value too long: "[redacted]"');
    logging = false;
    logger.logQuery('SELECT 1');
    expect(lines).toHaveLength(2);
  });
});
