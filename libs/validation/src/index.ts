export * from './input-formats';
export * from './uri-list';
export * from './validation-pipe';
