export * from './accounts.module';
export * from './password';
export * from './users.service';
