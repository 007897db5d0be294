import { Logger as NestLogger } from '@nestjs/common';
import type { Logger, LoggerOptions } from 'typeorm';
// Relative: this file is loaded where path aliases are not mapped (migration CLI, test global setup).
import { logSafeMessage, scrubParameters } from '../../config/src/redaction';

type Kind = 'query' | 'error' | 'schema' | 'warn' | 'info' | 'log' | 'migration';

/**
 * TypeORM's logger without query parameters: they hold secret hashes, sealed secrets and, during
 * the hashing migration, the tokens themselves. Queries are logged with the number of their
 * parameters; a failed query's error message is scrubbed of the parameter values PostgreSQL
 * repeats in it. What is logged follows the data source's `logging` option, read when logging
 * (the migration CLI turns query logging on after the data source is built).
 */
export class ParameterFreeTypeOrmLogger implements Logger {
  private readonly logger = new NestLogger('TypeORM');

  constructor(private readonly logging: () => LoggerOptions | undefined) {}

  logQuery(query: string, parameters?: unknown[]): void {
    if (this.enabled('query')) this.logger.log(`query: ${query}${count(parameters)}`);
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[]): void {
    if (!this.enabled('error')) return;
    const message =
      typeof error === 'string' ? scrubParameters(error, parameters) : logSafeMessage({ message: error.message, parameters });
    this.logger.error(`query failed: ${query}${count(parameters)}: ${message}`);
  }

  logQuerySlow(time: number, query: string, parameters?: unknown[]): void {
    this.logger.warn(`slow query (${time} ms): ${query}${count(parameters)}`);
  }

  logSchemaBuild(message: string): void {
    if (this.enabled('schema')) this.logger.log(message);
  }

  logMigration(message: string): void {
    if (this.enabled('migration')) this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (!this.enabled(level)) return;
    if (level === 'warn') this.logger.warn(String(message));
    else this.logger.log(String(message));
  }

  private enabled(kind: Kind): boolean {
    const logging = this.logging();
    if (logging === 'all' || logging === true) return true;
    // TypeORM logs migrations when logging is on in any form.
    return Array.isArray(logging) && (logging.includes(kind) || (kind === 'migration' && logging.length > 0));
  }
}

function count(parameters?: unknown[]): string {
  return parameters?.length ? ` -- ${parameters.length} parameters, not logged` : '';
}
