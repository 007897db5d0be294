export * from './input-formats';
export * from './input-text';
export * from './request-hygiene';
export * from './logging.module';
export * from './validation';
export * from './metrics.module';
