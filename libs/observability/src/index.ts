export * from './app-error';
export * from './health.module';
export * from './http-exception.filter';
export * from './http-setup';
export * from './logging.module';
export * from './validation';
export * from './bootstrap';
export * from './http-app';
