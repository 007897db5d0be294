export * from './oidc-adapter';
export * from './participation';
export * from './token-hash';
