export * from './input-text';
export * from './request-hygiene';
export * from './logging.module';
export * from './metrics.module';
