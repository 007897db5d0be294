export * from './entities';
export * from './data-source-options';
export * from './database.module';
export * from './prepared-query';
export * from './pager';
export * from './postgres-health.indicator';
