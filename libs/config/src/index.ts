export * from './config';
export * from './config.module';
export * from './limits';
export * from './redaction';
export { SETTINGS } from './table';
