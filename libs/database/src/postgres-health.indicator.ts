import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@slo/config';
import { outages, StoreIndicator } from '@slo/errors';
import { DataSource } from 'typeorm';

/**
 * PostgreSQL's health check: `SELECT 1` on the app's data source. Provided by the app shell's
 * health module, it registers the check with the process's outage tracker (with the port of
 * DATABASE_URL, so socket errors naming it count as a PostgreSQL outage).
 */
@Injectable()
export class PostgresHealthIndicator implements StoreIndicator, OnModuleInit, OnModuleDestroy {
  readonly dependency = 'postgres';
  private unregister?: () => void;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  readonly check = (): Promise<unknown> => this.db.query('SELECT 1');

  onModuleInit(): void {
    this.unregister = outages.register('postgres', this.check, Number(new URL(this.config.database.url).port || 5432));
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
