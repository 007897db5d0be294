export * from './input-formats';
export * from './uri-list';
