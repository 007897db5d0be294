export * from './queue-names';
export * from './queue.module';
export * from './redis-options';
export * from './redis.module';
export * from './redis-health.indicator';
export * from './shards';
