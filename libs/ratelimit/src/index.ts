export * from './client-ip';
export * from './rate-limit.module';
export * from './rate-limits';
export * from './too-many-requests';
