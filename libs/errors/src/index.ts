export * from './app-error';
export * from './error-rendering';
export * from './http-exception.filter';
export * from './outage';
