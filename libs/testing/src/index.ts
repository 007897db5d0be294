export * from './http-session';
export * from './pg';
export * from './test-env';
export * from './test-stack';
export * from './wait-for';
export * from './oidc-sign-in';
export * from './receiver';
export * from './redis-keys';
