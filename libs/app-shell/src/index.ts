export * from './app-shell.module';
export * from './bootstrap';
export * from './http-app';
