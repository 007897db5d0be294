import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { ParameterFreeTypeOrmLogger } from './typeorm-logger';

/** The single TypeORM configuration, shared by Nest (TypeOrmModule) and the migration CLI. */
export function dataSourceOptions(url: string): DataSourceOptions {
  const options: DataSourceOptions = {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    // Never logs query parameters (secret hashes, sealed secrets), whatever `logging` says.
    logger: new ParameterFreeTypeOrmLogger(() => options.logging),
    extra: {
      max: 10,
      application_name: 'slo-coordinator',
      // An unreachable PostgreSQL fails a request within seconds (pg waits forever by default), and
      // dead connections are noticed by TCP keepalive; the pool opens fresh ones once it is back.
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    },
  };
  return options;
}
