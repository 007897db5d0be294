export * from './auth.module';
export * from './server-token-verifier';
